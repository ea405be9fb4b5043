package superoffice

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// errSessionNotFound is the error a 404 about session n means.
func errSessionNotFound(n int64) error {
	return fmt.Errorf("%w: SuperOffice answered 404 for ChatSession %d", source.ErrNotFound, n)
}

// Session returns chat session id (a ChatSessionId): its status mapped as
// SPEC §4.3.1 says (a Finished session is ended but reopenable for
// chat.reopen_grace after WhenEnded), its start (WhenRequested), its
// customer, and its one live chat with the agents: the user who accepted
// it, then the receiver of each transfer. It reads the session's new
// messages for transfers and hands them to the Messages call that follows.
//
// WebAPI: GET /ChatSession/{id}, GET /ChatSession/{id}/Messages?after=,
// and, once per agent, GET /Associate/{id} and GET /Person/{id}.
func (c *Client) Session(ctx context.Context, id string) (aggregate.Session, error) {
	s, err := c.session(ctx, id)
	if err != nil {
		return aggregate.Session{}, c.wrap(err, "fetch chat session %s", source.Clip(id, 64))
	}
	return s, nil
}

func (c *Client) session(ctx context.Context, id string) (aggregate.Session, error) {
	n, err := parseSessionID(id)
	if err != nil {
		return aggregate.Session{}, err
	}
	ent, err := c.fetchSession(ctx, n)
	if err != nil {
		return aggregate.Session{}, err
	}
	rec, err := c.loadRecord(ctx, n)
	if err != nil {
		return aggregate.Session{}, fmt.Errorf("read the adapter's record: %w", err)
	}
	fetchedAt := c.now()
	fresh, err := c.fetchMessages(ctx, n, rec.Scanned)
	if err != nil {
		return aggregate.Session{}, err
	}
	after := rec.Scanned
	if c.update(&rec, &ent, fresh) {
		if err := c.saveRecord(ctx, n, rec); err != nil {
			return aggregate.Session{}, fmt.Errorf("keep the adapter's record: %w", err)
		}
	}
	c.memo.put(n, memoEntry{after: after, msgs: fresh, whenStarted: rec.WhenStarted, at: fetchedAt})
	agents, err := c.agents(ctx, &ent, &rec)
	if err != nil {
		return aggregate.Session{}, err
	}
	return c.domain(&ent, agents), nil
}

// fetchSession reads and checks ChatSession n.
func (c *Client) fetchSession(ctx context.Context, n int64) (wireSession, error) {
	body, err := c.get(ctx, "session", c.endpoint(fmt.Sprintf("/ChatSession/%d", n), nil), errSessionNotFound(n))
	if err != nil {
		return wireSession{}, err
	}
	return decodeSession(body, n, c.limits())
}

// domain translates ent into the domain: its status, times, customer and
// its live chat, unless a bot alone has had it (ChatbotIsActive and no
// user accepted it), when there is none.
func (c *Client) domain(ent *wireSession, agents []aggregate.Agent) aggregate.Session {
	n := int64(ent.ChatSessionID)
	s := aggregate.Session{
		ID:        strconv.FormatInt(n, 10),
		Status:    aggregate.StatusActive,
		StartedAt: ent.WhenRequested.Time,
		UpdatedAt: c.listedUpdate(n),
		Customer:  customer(ent),
	}
	status, known := ent.Status.lookup(statusNames)
	switch {
	case !known || status == statusInvalid:
		c.warn("status:"+ent.Status.String(), "superoffice: a ChatSessionStatus this syncworker does not know; the session is taken as active",
			"session", n, "Status", ent.Status.String())
	case statusEnded(status):
		s.Status = aggregate.StatusEnded
		s.EndedAt = ent.WhenEnded.Time
		if s.EndedAt.IsZero() {
			s.EndedAt = ent.WhenIdle.Time
		}
		if status == statusFinished && c.grace > 0 && !s.EndedAt.IsZero() {
			s.ReopenableUntil = s.EndedAt.Add(c.grace)
		}
	}
	if ent.ChatbotIsActive && ent.WhenStarted.IsZero() {
		return s
	}
	lc := aggregate.LiveChat{ID: s.ID, RequestedAt: ent.WhenRequested.Time, ConnectedAt: ent.WhenStarted.Time, Agents: agents}
	if s.Ended() {
		lc.EndedAt = s.EndedAt
	}
	s.LiveChats = []aggregate.LiveChat{lc}
	return s
}

// customer is the session's customer as the chat widget collected it;
// the session's Person, when SuperOffice matched one, fills in what the
// customer left empty.
func customer(ent *wireSession) aggregate.Customer {
	cu := aggregate.Customer{Name: strings.TrimSpace(ent.CustomerName), Email: strings.TrimSpace(ent.CustomerEmail)}
	if cu.Name == "" {
		cu.Name = strings.TrimSpace(ent.CustomerAlias)
	}
	if p := ent.Person; p != nil && p.PersonID > 0 {
		cu.ID = strconv.FormatInt(int64(p.PersonID), 10)
		if cu.Name == "" {
			cu.Name = strings.TrimSpace(p.FullName)
		}
		if cu.Email == "" {
			cu.Email = strings.TrimSpace(p.Email)
		}
	}
	return cu
}

// agents are the session's stints: the first user at WhenStarted, then the
// receiver of each transfer still standing at its message's time (never
// before WhenStarted). A session nobody accepted has none.
func (c *Client) agents(ctx context.Context, ent *wireSession, rec *record) ([]aggregate.Agent, error) {
	started := rec.WhenStarted
	if started.IsZero() {
		return nil, nil
	}
	var out []aggregate.Agent
	if f := rec.First; f != nil {
		switch {
		case f.ByAuthor:
			out = append(out, aggregate.Agent{Name: f.Name, JoinedAt: started})
		case f.AssociateID > 0:
			a, err := c.agent(ctx, f.AssociateID, f.Name, started)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	for _, t := range rec.Transfers {
		if t.Rejected || t.AssociateID <= 0 {
			continue
		}
		fallback := ""
		if ent.User != nil && int64(ent.User.AssociateID) == t.AssociateID {
			fallback = userName(ent.User)
		}
		a, err := c.agent(ctx, t.AssociateID, fallback, later(t.At, started))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// agent is associate id's stint from joined; fallback names it when
// SuperOffice no longer knows the associate.
func (c *Client) agent(ctx context.Context, id int64, fallback string, joined time.Time) (aggregate.Agent, error) {
	p, err := c.associate(ctx, id)
	if err != nil {
		return aggregate.Agent{}, fmt.Errorf("associate %d: %w", id, err)
	}
	name := p.Name
	if name == "" {
		name = fallback
	}
	return aggregate.Agent{ID: strconv.FormatInt(id, 10), Name: name, Email: p.Email, JoinedAt: joined}, nil
}

// listedUpdate is session n's updatedDate as the last listing showed it,
// zero when none did. An older value than SuperOffice has now is harmless:
// the next listing shows a newer one, and the session is fetched again.
func (c *Client) listedUpdate(n int64) time.Time {
	c.listedMu.Lock()
	defer c.listedMu.Unlock()
	return c.listed[n]
}
