package genesys

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

const conversationsPath = "/api/v2/conversations/"

// Session returns conversation id as a session: ended when the
// conversation has an endTime, the customer participant as the customer,
// one live chat per acd participant and one agent stint per connected
// agent participant. It caches the conversation for the Messages call
// that follows, so that a pass costs one GET per conversation.
//
// Platform API: GET /api/v2/conversations/{conversationId}, and
// GET /api/v2/users/{userId} and
// GET /api/v2/externalcontacts/contacts/{contactId} for people not yet
// cached.
func (c *Client) Session(ctx context.Context, id string) (aggregate.Session, error) {
	conv, err := c.conversation(ctx, id)
	if err != nil {
		return aggregate.Session{}, c.wrap(err, "fetch conversation %s", nameID(id))
	}
	c.convs.put(id, conv)
	s, err := c.session(ctx, conv)
	if err != nil {
		return aggregate.Session{}, c.wrap(err, "fetch conversation %s", nameID(id))
	}
	return s, nil
}

// conversation fetches and checks conversation id.
func (c *Client) conversation(ctx context.Context, id string) (*wireConversation, error) {
	if err := checkID("conversation id", id); err != nil {
		return nil, err
	}
	body, err := c.call(ctx, "conversation", "GET", conversationsPath+url.PathEscape(id), nil, source.ErrNotFound)
	if err != nil {
		return nil, err
	}
	conv, err := decodeConversation(body, c.limits())
	if err != nil {
		return nil, err
	}
	if conv.ID != id {
		return nil, source.Invalidf("answer is about conversation %s", nameID(conv.ID))
	}
	return conv, nil
}

func (c *Client) session(ctx context.Context, conv *wireConversation) (aggregate.Session, error) {
	s := aggregate.Session{ID: conv.ID, Status: aggregate.StatusActive, StartedAt: conv.StartTime}
	if !conv.EndTime.IsZero() {
		s.Status, s.EndedAt = aggregate.StatusEnded, conv.EndTime
	}
	var err error
	if s.Customer, err = c.customer(ctx, conv); err != nil {
		return s, err
	}
	chats := liveChats(conv)
	for i := range chats {
		for j := range chats[i].Agents {
			if err := c.resolveAgent(ctx, &chats[i].Agents[j]); err != nil {
				return s, err
			}
		}
	}
	s.LiveChats = chats
	return s, nil
}

// customerOf returns the conversation's customer participant, nil when it
// has none.
func customerOf(conv *wireConversation) *wireParticipant {
	for i := range conv.Participants {
		if conv.Participants[i].Purpose == purposeCustomer {
			return &conv.Participants[i]
		}
	}
	return nil
}

// customer is the customer participant as a person: its name, else its
// external contact's "firstName lastName"; its email from the configured
// participant attribute, else the contact's work, then personal email.
func (c *Client) customer(ctx context.Context, conv *wireConversation) (aggregate.Customer, error) {
	p := customerOf(conv)
	if p == nil {
		return aggregate.Customer{}, nil
	}
	cust := aggregate.Customer{ID: p.ExternalContactID, Name: p.Name}
	if cust.ID == "" {
		cust.ID = p.ID
	}
	if c.emailAttr != "" {
		cust.Email = strings.TrimSpace(p.Attributes[c.emailAttr])
	}
	if p.ExternalContactID == "" || (cust.Name != "" && cust.Email != "") {
		return cust, nil
	}
	ct, err := c.contact(ctx, p.ExternalContactID)
	if err != nil {
		return cust, err
	}
	if cust.Name == "" {
		cust.Name = strings.TrimSpace(ct.Name + " " + ct.LastName)
	}
	if cust.Email == "" {
		cust.Email = cmpOr(ct.Email, ct.PersonalEmail)
	}
	return cust, nil
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// resolveAgent fills an agent stint's name and email from its user. A
// stint without a user, or whose user is gone, keeps the participant's
// name.
func (c *Client) resolveAgent(ctx context.Context, a *aggregate.Agent) error {
	userID, ok := strings.CutPrefix(a.ID, userPrefix)
	if !ok {
		return nil
	}
	a.ID = userID
	u, err := c.user(ctx, userID)
	if err != nil {
		return err
	}
	if u.Found {
		a.Name, a.Email = u.Name, u.Email
	}
	return nil
}

// userPrefix marks an agent ID that is a user id still to be resolved.
const userPrefix = "\x00user:"

// requestedAt is when an acd participant opened its live chat: its
// startTime, else its connectedTime.
func requestedAt(p *wireParticipant) time.Time {
	if !p.StartTime.IsZero() {
		return p.StartTime
	}
	return p.ConnectedTime
}

// liveChats applies the rules of SPEC §4.3.2: each acd participant opens a
// live chat requested at its startTime; each agent participant with a
// connectedTime is a stint (connectedTime → endTime) of the latest live
// chat requested at or before it connected; an agent alerted but never
// connected is no stint. A stint with no live chat before it opens one of
// its own, requested when the agent was alerted. A live chat connects with
// its first stint and ends with its last one (or, with no stint, when its
// acd leg ended). Agent IDs are user ids marked with userPrefix, names the
// participants'; resolveAgent looks them up.
func liveChats(conv *wireConversation) []aggregate.LiveChat {
	var chats []aggregate.LiveChat
	acdEnd := map[string]time.Time{}
	for i := range conv.Participants {
		p := &conv.Participants[i]
		if p.Purpose != purposeACD || requestedAt(p).IsZero() {
			continue
		}
		chats = append(chats, aggregate.LiveChat{ID: p.ID, RequestedAt: requestedAt(p), Agents: []aggregate.Agent{}})
		acdEnd[p.ID] = p.EndTime
	}
	slices.SortStableFunc(chats, func(a, b aggregate.LiveChat) int { return a.RequestedAt.Compare(b.RequestedAt) })
	for _, p := range stints(conv) {
		i := latestAtOrBefore(chats, p.ConnectedTime)
		if i < 0 {
			req := requestedAt(p)
			if req.After(p.ConnectedTime) {
				req = p.ConnectedTime
			}
			chats = slices.Insert(chats, 0, aggregate.LiveChat{ID: p.ID, RequestedAt: req, Agents: []aggregate.Agent{}})
			i = 0
		}
		a := aggregate.Agent{ID: p.ID, Name: p.Name, JoinedAt: p.ConnectedTime, LeftAt: p.EndTime}
		if p.UserID != "" {
			a.ID = userPrefix + p.UserID
		}
		chats[i].Agents = append(chats[i].Agents, a)
	}
	for i := range chats {
		closeLiveChat(&chats[i], acdEnd[chats[i].ID])
	}
	return chats
}

// stints returns the connected agent participants by connectedTime;
// participants connected at one instant keep their order.
func stints(conv *wireConversation) []*wireParticipant {
	var out []*wireParticipant
	for i := range conv.Participants {
		p := &conv.Participants[i]
		if p.Purpose == purposeAgent && !p.ConnectedTime.IsZero() {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b *wireParticipant) int { return a.ConnectedTime.Compare(b.ConnectedTime) })
	return out
}

// latestAtOrBefore returns the index of the last live chat of chats
// (sorted by RequestedAt) requested at or before t, -1 when none was.
func latestAtOrBefore(chats []aggregate.LiveChat, t time.Time) int {
	i := -1
	for j, lc := range chats {
		if lc.RequestedAt.After(t) {
			break
		}
		i = j
	}
	return i
}

// closeLiveChat sets a live chat's connect and end times from its stints:
// connected with the first, ended with the last once every stint ended;
// without stints it ended when its acd leg did.
func closeLiveChat(lc *aggregate.LiveChat, acdEnd time.Time) {
	if len(lc.Agents) == 0 {
		lc.EndedAt = acdEnd
		return
	}
	lc.ConnectedAt = lc.Agents[0].JoinedAt
	var end time.Time
	for _, a := range lc.Agents {
		if a.JoinedAt.Before(lc.ConnectedAt) {
			lc.ConnectedAt = a.JoinedAt
		}
		if a.LeftAt.IsZero() {
			return
		}
		if a.LeftAt.After(end) {
			end = a.LeftAt
		}
	}
	lc.EndedAt = end
}
