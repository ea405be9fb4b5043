package generic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// sessionPage is the body of GET /sessions.
type sessionPage struct {
	Sessions   []json.RawMessage `json:"sessions"`
	NextCursor string            `json:"next_cursor"`
}

// listedSession is one entry of GET /sessions: only the session's head.
type listedSession struct {
	ID        string           `json:"id"`
	Status    aggregate.Status `json:"status"`
	StartedAt time.Time        `json:"started_at"`
	EndedAt   time.Time        `json:"ended_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

func (s listedSession) session() aggregate.Session {
	return aggregate.Session{ID: s.ID, Status: s.Status, StartedAt: s.StartedAt,
		EndedAt: s.EndedAt, UpdatedAt: s.UpdatedAt}
}

// messagesPage is the body of GET /sessions/{id}/messages.
type messagesPage struct {
	Messages []wireMessage `json:"messages"`
	HasMore  bool          `json:"has_more"`
}

// decodeSessionPage decodes and checks one page of the session listing.
// Duplicate ids are left for the pager to drop.
func decodeSessionPage(body []byte, l limits) ([]aggregate.Session, string, error) {
	var p sessionPage
	if err := unmarshalObject(body, &p); err != nil {
		return nil, "", err
	}
	out := make([]aggregate.Session, 0, len(p.Sessions))
	for i, raw := range p.Sessions {
		s, err := decodeListed(raw, l)
		if err != nil {
			return nil, "", source.Invalidf("sessions[%d] %s: %v", i, quoteID(s.ID), err)
		}
		out = append(out, s)
	}
	return out, p.NextCursor, nil
}

// decodeListed reads one entry of the listing. Only its id must be sound:
// a status, time or type that does not check is left zero, so that one
// garbled session cannot stop the listing, and with it every pass. A zero
// updated_at reads as "changed", so the session is fetched, and fetching
// it reports what is wrong, for that session alone.
func decodeListed(raw json.RawMessage, l limits) (aggregate.Session, error) {
	var ls listedSession
	if err := json.Unmarshal(raw, &ls); err != nil {
		var idOnly struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &idOnly) != nil {
			return aggregate.Session{}, fmt.Errorf("malformed JSON: %w", err)
		}
		ls = listedSession{ID: idOnly.ID}
	}
	s := ls.session()
	if err := checkID("id", s.ID); err != nil {
		return s, err
	}
	if l.checkTime("started_at", s.StartedAt, true) != nil {
		s.StartedAt = time.Time{}
	}
	if l.checkTime("ended_at", s.EndedAt, false) != nil {
		s.EndedAt = time.Time{}
	}
	if l.checkTime("updated_at", s.UpdatedAt, false) != nil {
		s.UpdatedAt = time.Time{}
	}
	return s, nil
}

// decodeSession decodes and checks the body of GET /sessions/{id}.
func decodeSession(body []byte, l limits) (aggregate.Session, error) {
	var w wireSession
	if err := unmarshalObject(body, &w); err != nil {
		return aggregate.Session{}, err
	}
	s := w.domain()
	if err := l.checkSession(&s); err != nil {
		return aggregate.Session{}, source.Invalidf("%v", err)
	}
	return s, nil
}

// decodeMessagesPage decodes and checks one page of messages, returned
// sorted by seq with every seq once.
func decodeMessagesPage(body []byte, l limits) ([]aggregate.Message, bool, error) {
	var p messagesPage
	if err := unmarshalObject(body, &p); err != nil {
		return nil, false, err
	}
	msgs := make([]aggregate.Message, len(p.Messages))
	for i := range p.Messages {
		msgs[i] = p.Messages[i].domain()
	}
	if err := l.checkMessages(msgs); err != nil {
		return nil, false, source.Invalidf("%v", err)
	}
	return msgs, p.HasMore, nil
}

// unmarshalObject decodes a JSON object into v; unknown members are
// ignored. A top-level null, which encoding/json would accept silently,
// is an error.
func unmarshalObject(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return source.Invalidf("body is not a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return source.Invalidf("malformed JSON: %s", source.Clip(err.Error(), maxMessageLen))
	}
	return nil
}
