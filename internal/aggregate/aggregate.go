package aggregate

import (
	"cmp"
	"slices"
	"time"
)

// Aggregate computes the card values of session s from its transcript,
// following SPEC §5. msgs may come in any order and may repeat a seq; it is
// not modified.
func Aggregate(s Session, msgs []Message, opt Options) Card {
	msgs = Normalize(msgs)
	c := Card{
		SessionID:      s.ID,
		ChatLog:        RenderChatLog(msgs, opt.Location, opt.ChatLogMaxChars),
		MessageCount:   len(msgs),
		Customer:       customer(s.Customer),
		Members:        members(s),
		SupportPerson:  supportPerson(s.LiveChats),
		StartTime:      s.StartedAt.UTC().Truncate(time.Second),
		FirstReplyWait: firstReplyWait(s.LiveChats, msgs),
		Active:         true,
	}
	if s.TranscriptMissing && len(msgs) == 0 {
		c.TranscriptMissing = true
	}
	for _, m := range msgs {
		if !m.Sender.Type.Known() {
			c.UnknownSenders++
		}
	}
	switch {
	case s.Reopenable(opt.Now):
		// Final only once the customer can no longer reopen it.
	case s.Ended():
		c.Active = false
		if !s.EndedAt.IsZero() {
			end := s.EndedAt.UTC().Truncate(time.Second)
			c.EndTime = &end
		}
	case Expired(s, opt):
		c.Active = false
		c.Expired = true
	}
	return c
}

// Expired reports whether s is still open on the platform but older than
// Options.MaxActiveAge, so that it is closed rather than polled forever.
func Expired(s Session, opt Options) bool {
	return !s.Ended() && opt.MaxActiveAge > 0 && !s.StartedAt.IsZero() &&
		opt.Now.Sub(s.StartedAt) > opt.MaxActiveAge
}

// Normalize returns msgs ordered by seq with each seq once (the first
// occurrence wins: messages never change once sent). It returns a new slice
// when it has to reorder or drop anything.
func Normalize(msgs []Message) []Message {
	if strictlyIncreasing(msgs) {
		return msgs
	}
	out := slices.Clone(msgs)
	slices.SortStableFunc(out, func(a, b Message) int { return cmp.Compare(a.Seq, b.Seq) })
	return slices.CompactFunc(out, func(a, b Message) bool { return a.Seq == b.Seq })
}

func strictlyIncreasing(msgs []Message) bool {
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Seq <= msgs[i-1].Seq {
			return false
		}
	}
	return true
}

func customer(c Customer) *Identity {
	id := identity(c.Name, c.Email)
	if id == (Identity{}) {
		return nil
	}
	return &id
}

func identity(name, email string) Identity {
	return Identity{Name: singleLine(name), Email: NormalizeEmail(email)}
}

// personKey is how members are told apart: by email when there is one,
// else by name, since a person with neither cannot be told from anyone.
func personKey(id Identity) string {
	if id.Email != "" {
		return "e:" + id.Email
	}
	return "n:" + id.Name
}

// members lists the customer, then every agent in order of first joining,
// each person once.
func members(s Session) []Identity {
	out := []Identity{}
	seen := map[string]bool{}
	add := func(id Identity) {
		if id == (Identity{}) || seen[personKey(id)] {
			return
		}
		seen[personKey(id)] = true
		out = append(out, id)
	}
	if c := customer(s.Customer); c != nil {
		add(*c)
	}
	for _, a := range agentsByJoin(s.LiveChats) {
		add(identity(a.Name, a.Email))
	}
	return out
}

// agentsByJoin returns every agent stint of every live chat ordered by
// joined_at; stints that joined at the same time keep their order in the
// data.
func agentsByJoin(chats []LiveChat) []Agent {
	var all []Agent
	for _, lc := range chats {
		all = append(all, lc.Agents...)
	}
	slices.SortStableFunc(all, func(a, b Agent) int { return a.JoinedAt.Compare(b.JoinedAt) })
	return all
}

// supportPerson is the agent who joined last over all live chats: after a
// transfer or in a later live chat, the newer agent.
func supportPerson(chats []LiveChat) *Identity {
	agents := agentsByJoin(chats)
	if len(agents) == 0 {
		return nil
	}
	last := agents[len(agents)-1]
	id := identity(last.Name, last.Email)
	if id == (Identity{}) {
		return nil
	}
	return &id
}

// firstReplyWait is the agent's first reply time in the first established
// live chat, in whole seconds; nil when the agent never replied there.
func firstReplyWait(chats []LiveChat, msgs []Message) *int64 {
	lc, ok := firstEstablished(chats)
	if !ok {
		return nil
	}
	var visitor *Message
	for i, m := range msgs {
		if m.LiveChatID != lc.ID || m.SentAt.Before(lc.ConnectedAt) {
			continue
		}
		switch m.Sender.Type {
		case SenderVisitor:
			if visitor == nil {
				visitor = &msgs[i]
			}
		case SenderAgent:
			var wait int64
			if visitor != nil {
				wait = max(int64(m.SentAt.Sub(visitor.SentAt)/time.Second), 0)
			}
			return &wait
		}
	}
	return nil
}

// firstEstablished returns the live chat that connected first.
func firstEstablished(chats []LiveChat) (LiveChat, bool) {
	var first LiveChat
	found := false
	for _, lc := range chats {
		if lc.ConnectedAt.IsZero() {
			continue
		}
		if !found || lc.ConnectedAt.Before(first.ConnectedAt) {
			first, found = lc, true
		}
	}
	return first, found
}
