package sandbox

import (
	"slices"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// express returns what Genesys Cloud can carry of a session, as the fake
// serves it and the adapter reads it back (docs/sources/genesys-cloud.md,
// "What Genesys cannot express"):
//
//   - system messages and senders of other types do not exist;
//   - times have millisecond precision;
//   - an ended session without an end time ends at the latest time it
//     mentions; an active one has none;
//   - a live chat is an acd leg: it opens when it was requested and
//     connects with its first agent; an agent who never joined is no
//     stint, and every stint belongs to the latest live chat requested at
//     or before it joined;
//   - a message carries no live chat: it belongs to the latest live chat
//     requested at or before it;
//   - the customer's messages carry the customer's name;
//   - messages are ordered by (time, message id); a seq given twice is
//     one message, as the chat store keeps it.
//
// It must agree with translate (genesys_wire.go) and the adapter's rules;
// the golden test checks that it does.
func (g *genesysPlatform) express(sess aggregate.Session, msgs []aggregate.Message) (aggregate.Session, []aggregate.Message) {
	msgs = aggregate.Normalize(msgs)
	s := cloneSession(sess)
	if s.Ended() {
		s.EndedAt = ms(genesysEnd(&sess, msgs))
	} else {
		s.EndedAt = time.Time{}
	}
	s.StartedAt = ms(s.StartedAt)
	s.LiveChats = expressLiveChats(&sess, msgs)
	out := make([]aggregate.Message, 0, len(msgs))
	for _, m := range msgs {
		if !expressible(m.Sender.Type) {
			continue
		}
		m.SentAt = ms(m.SentAt)
		m.LiveChatID = ""
		if i := latestRequested(s.LiveChats, m.SentAt); i >= 0 {
			m.LiveChatID = s.LiveChats[i].ID
		}
		if m.Sender.Type == aggregate.SenderVisitor {
			m.Sender = aggregate.Sender{Type: aggregate.SenderVisitor, ID: s.Customer.ID, Name: s.Customer.Name}
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b aggregate.Message) int { return compareGenesys(sess.ID, a, b) })
	for i := range out {
		out[i].Seq = int64(i + 1)
	}
	return s, out
}

// expressLiveChats rebuilds the live chats from the acd legs and agent
// stints the fake serves, by the rules of SPEC §4.3.2.
func expressLiveChats(sess *aggregate.Session, msgs []aggregate.Message) []aggregate.LiveChat {
	var chats []aggregate.LiveChat
	var agents []aggregate.Agent
	for _, lc := range sess.LiveChats {
		chats = append(chats, aggregate.LiveChat{ID: lc.ID, RequestedAt: ms(genesysRequested(&lc, sess, msgs)),
			Agents: []aggregate.Agent{}})
		for _, a := range lc.Agents {
			if a.JoinedAt.IsZero() {
				continue
			}
			a.JoinedAt, a.LeftAt = ms(a.JoinedAt), ms(a.LeftAt)
			agents = append(agents, a)
		}
	}
	slices.SortStableFunc(chats, func(a, b aggregate.LiveChat) int { return a.RequestedAt.Compare(b.RequestedAt) })
	slices.SortStableFunc(agents, func(a, b aggregate.Agent) int { return a.JoinedAt.Compare(b.JoinedAt) })
	for _, a := range agents {
		i := latestRequested(chats, a.JoinedAt)
		if i < 0 {
			chats = slices.Insert(chats, 0, aggregate.LiveChat{ID: "agent:" + a.ID, RequestedAt: a.JoinedAt,
				Agents: []aggregate.Agent{}})
			i = 0
		}
		chats[i].Agents = append(chats[i].Agents, a)
	}
	for i := range chats {
		if len(chats[i].Agents) > 0 {
			chats[i].ConnectedAt = chats[i].Agents[0].JoinedAt
		}
	}
	return chats
}

// latestRequested returns the index of the last of chats (sorted by
// RequestedAt) requested at or before t, -1 when none was.
func latestRequested(chats []aggregate.LiveChat, t time.Time) int {
	i := -1
	for j, lc := range chats {
		if lc.RequestedAt.After(t) {
			break
		}
		i = j
	}
	return i
}
