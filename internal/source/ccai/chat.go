package ccai

import (
	"context"
	"slices"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// Chat states of the events (SPEC §4.3.3).
var (
	activeStates = map[string]bool{"waiting": true, "connected": true, "resumed": true,
		"participantDisconnect": true, "transferred": true}
	endStates = map[string]bool{"disconnected": true, "dismissed": true}
)

// timeline is a chat as its events tell it, applied in event time order.
type timeline struct {
	events   int
	first    time.Time
	received time.Time // when the latest event was received
	ended    bool
	endedAt  time.Time
	// endsAt is the ending event's ends_at.
	endsAt time.Time
	// connectedAt is when the first human agent connected.
	connectedAt time.Time
	// virtual is set once a virtual agent took part: a connected_at of a
	// later event may then be the virtual agent's. vaConnectedAt are the
	// connected_at of events in which only a virtual agent was connected.
	virtual       bool
	vaConnectedAt []time.Time
	// laterConnectedAt is the first connected_at of an event after the
	// human agent connected, more precise than that event's time.
	laterConnectedAt time.Time
	customerID       string
	agents           []aggregate.Agent
	open             map[string]int // dn → index of the open stint
	unknown          []string
}

// apply adds one event to the timeline.
func (t *timeline) apply(ev event, received time.Time) {
	t.events++
	if t.first.IsZero() || ev.At.Before(t.first) {
		t.first = ev.At
	}
	if received.After(t.received) {
		t.received = received
	}
	if !activeStates[ev.State] && !endStates[ev.State] {
		t.unknown = append(t.unknown, ev.State)
	}
	humanConnected, vaConnected := false, false
	for _, p := range ev.Participants {
		switch p.Type {
		case partExternal:
			if t.customerID == "" {
				t.customerID = p.DN
			}
		case partVirtualAgent:
			t.virtual = true
			vaConnected = vaConnected || p.State == "connected"
		case partAgent:
			if t.agentState(p, ev.At) {
				humanConnected = true
			}
		}
	}
	if vaConnected && !humanConnected && !ev.ConnectedAt.IsZero() {
		t.vaConnectedAt = append(t.vaConnectedAt, ev.ConnectedAt)
	}
	switch {
	case humanConnected && t.connectedAt.IsZero():
		t.connectedAt = ev.At
		// The human's connected_at, unless it is the virtual agent's.
		if !ev.ConnectedAt.IsZero() && !vaConnected && !slices.ContainsFunc(t.vaConnectedAt, ev.ConnectedAt.Equal) {
			t.connectedAt = ev.ConnectedAt
		}
	case !t.connectedAt.IsZero() && t.laterConnectedAt.IsZero() && !ev.ConnectedAt.IsZero():
		t.laterConnectedAt = ev.ConnectedAt
	}
	if endStates[ev.State] && !t.ended {
		t.ended, t.endedAt, t.endsAt = true, ev.At, ev.EndsAt
		for dn, i := range t.open {
			t.agents[i].LeftAt = ev.At
			delete(t.open, dn)
		}
	}
}

// agentState applies one human agent's state and reports whether it is
// connected in this event.
func (t *timeline) agentState(p wireParticipant, at time.Time) bool {
	if t.open == nil {
		t.open = map[string]int{}
	}
	i, open := t.open[p.DN]
	switch p.State {
	case "connected", "resumed":
		if !open && !t.ended {
			t.open[p.DN] = len(t.agents)
			t.agents = append(t.agents, aggregate.Agent{ID: p.DN, Name: source.Clip(p.Name, 200), JoinedAt: at})
		}
		return true
	case "disconnected", "dismissed":
		if open {
			t.agents[i].LeftAt = at
			delete(t.open, p.DN)
		}
	}
	return false
}

// connectTime is the live chat's connect time: the first human agent's
// connected_at where the events say it unambiguously, else the time of
// the event in which that agent appeared connected.
func (t *timeline) connectTime() time.Time {
	if !t.virtual && !t.laterConnectedAt.IsZero() && !t.laterConnectedAt.After(t.connectedAt) {
		return t.laterConnectedAt
	}
	return t.connectedAt
}

// readTimeline applies the stored events of chat id.
func (c *Client) readTimeline(ctx context.Context, id string) (timeline, error) {
	var t timeline
	_, events := c.stores()
	err := events.Events(ctx, Namespace, id, func(at, received time.Time, body []byte) error {
		ev, err := parseItem(body)
		if err != nil {
			// It was valid when stored: the encoding changed.
			c.log.Warn("stored ccai event cannot be read; ignored", "chat", id, "err", err)
			return nil
		}
		ev.At = at
		t.apply(ev, received)
		return nil
	})
	return t, err
}

// Session implements source.Source: the chat as its events, the Apps API
// and its transcript file tell it.
func (c *Client) Session(ctx context.Context, id string) (aggregate.Session, error) {
	if _, err := chatID([]byte(id)); err != nil {
		return aggregate.Session{}, err
	}
	t, err := c.readTimeline(ctx, id)
	if err != nil {
		return aggregate.Session{}, err
	}
	h, err := c.head(ctx, id, &t)
	if err != nil {
		return aggregate.Session{}, err
	}
	for _, st := range t.unknown {
		if _, seen := c.unknown.LoadOrStore(st, true); !seen {
			c.log.Warn("unknown ccai chat state taken as active", "state", st, "chat", id)
		}
	}
	tr, trErr := c.readTranscript(id)
	s := c.session(id, &t, &h, tr)
	s.TranscriptMissing = trErr != nil
	for i := range s.LiveChats[0].Agents {
		a := &s.LiveChats[0].Agents[i]
		if a.Email, err = c.agentEmail(ctx, a.ID); err != nil {
			return aggregate.Session{}, err
		}
	}
	if !s.Ended() {
		return s, nil
	}
	switch {
	case trErr == nil:
	case c.now().Before(s.EndedAt.Add(c.transcriptWait)):
		// Ended, but the log is not there yet: kept open until it is.
		s.ReopenableUntil = s.EndedAt.Add(c.transcriptWait)
	default:
		c.log.Warn("chat closed without its transcript: chat.transcript_wait has passed since it ended",
			"chat", id, "ended_at", s.EndedAt.UTC().Format(time.RFC3339), "transcript_wait", c.transcriptWait, "reason", trErr)
	}
	return s, nil
}

// head returns the Apps API's answer for chat id, asking again when the
// chat was never asked about, when no events arrive, or when it went
// PollAfter without an event or a poll while not ended.
func (c *Client) head(ctx context.Context, id string, t *timeline) (head, error) {
	h, ok, err := c.cachedHead(ctx, id)
	if err != nil {
		return head{}, err
	}
	quiet := c.now().Sub(later(t.received, h.PolledAt)) >= c.pollAfter
	if ok && c.live.Load() && (t.ended || h.ended() || !quiet) {
		return h, nil
	}
	fresh, err := c.fetchChat(ctx, id)
	if err != nil {
		return head{}, err
	}
	return fresh, c.keepHead(ctx, id, fresh)
}

// session puts the chat together: events first, the Apps API where they
// are silent, the transcript for the customer's name and, without events,
// the connect time.
func (c *Client) session(id string, t *timeline, h *head, tr *transcript) aggregate.Session {
	s := aggregate.Session{ID: id, Status: aggregate.StatusActive, StartedAt: h.CreatedAt, UpdatedAt: t.received,
		Customer: aggregate.Customer{ID: h.CustomerID, Name: h.CustomerName, Email: h.CustomerEmail}}
	if s.StartedAt.IsZero() {
		s.StartedAt = t.first
	}
	if s.Customer.ID == "" {
		s.Customer.ID = t.customerID
	}
	if s.Customer.Name == "" && tr != nil {
		s.Customer.Name = tr.customerName
	}
	lc := aggregate.LiveChat{ID: id, RequestedAt: s.StartedAt, ConnectedAt: t.connectTime(), Agents: t.agents}
	if t.events == 0 || len(t.agents) == 0 && len(h.Agents) > 0 {
		lc.Agents, lc.ConnectedAt = nil, h.AssignedAt
		if tr != nil && !tr.assignedAt.IsZero() {
			lc.ConnectedAt = tr.assignedAt
		}
		// Without events the Apps API lists the agents in the order
		// they were assigned and says no more: each joins at the
		// connect time, the last listed being the latest.
		for _, a := range h.Agents {
			lc.Agents = append(lc.Agents, aggregate.Agent{ID: a.ID, Name: a.Name, JoinedAt: lc.ConnectedAt})
		}
	}
	switch {
	case t.ended:
		s.Status, s.EndedAt = aggregate.StatusEnded, first(t.endsAt, h.EndsAt, t.endedAt)
	case h.ended():
		s.Status, s.EndedAt = aggregate.StatusEnded, first(h.EndsAt, h.PolledAt)
	}
	if s.Ended() {
		lc.EndedAt = s.EndedAt
	}
	s.LiveChats = []aggregate.LiveChat{lc}
	return s
}

func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
