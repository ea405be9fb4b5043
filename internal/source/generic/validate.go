package generic

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// Bounds of plausible data. A value outside them is a broken or hostile
// server, never something to write onto a card.
const (
	maxSeq   = 1_000_000_000_000
	maxIDLen = 256
	// maxFuture tolerates clock skew between the platform and us.
	maxFuture = 24 * time.Hour
)

// minTime is the earliest plausible timestamp.
var minTime = time.Unix(0, 0)

// limits are the checks' parameters: the time to judge "future" by and the
// text cap.
type limits struct {
	now     time.Time
	maxText int
}

func (c *Client) limits() limits { return limits{now: c.now(), maxText: c.maxText} }

// checkID refuses ids that could not be put in a URL path, a SQLite row or
// an ESM filter without surprises.
func checkID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s missing", what)
	case len(id) > maxIDLen:
		return fmt.Errorf("%s longer than %d bytes", what, maxIDLen)
	case strings.ContainsFunc(id, unicode.IsControl):
		return fmt.Errorf("%s contains control characters", what)
	}
	return nil
}

// nameID is id as error messages show it: as is when it is a sane id,
// quoted and shortened otherwise.
func nameID(id string) string {
	if checkID("", id) == nil {
		return id
	}
	return quoteID(id)
}

// quoteID quotes an id from the server for an error message, shortened.
func quoteID(id string) string { return strconv.Quote(source.Clip(id, 64)) }

// checkTime checks that t, when set, is plausible, and that it is set when
// required.
func (l limits) checkTime(what string, t time.Time, required bool) error {
	switch {
	case t.IsZero():
		if required {
			return fmt.Errorf("%s missing", what)
		}
	case t.Before(minTime):
		return fmt.Errorf("%s %s is before 1970", what, t.Format(time.RFC3339))
	case t.After(l.now.Add(maxFuture)):
		return fmt.Errorf("%s %s is in the future", what, t.Format(time.RFC3339))
	}
	return nil
}

// checkHead checks the fields the session listing carries.
func (l limits) checkHead(s *aggregate.Session) error {
	if err := checkID("id", s.ID); err != nil {
		return err
	}
	if s.Status == "" {
		return errors.New("status missing")
	}
	return firstErr(
		l.checkTime("started_at", s.StartedAt, true),
		l.checkTime("ended_at", s.EndedAt, false),
		l.checkTime("updated_at", s.UpdatedAt, false),
	)
}

// checkSession checks a whole session: its head and its live chats.
func (l limits) checkSession(s *aggregate.Session) error {
	if err := l.checkHead(s); err != nil {
		return err
	}
	for i, lc := range s.LiveChats {
		if err := l.checkLiveChat(lc); err != nil {
			return fmt.Errorf("live_chats[%d]: %w", i, err)
		}
	}
	return nil
}

func (l limits) checkLiveChat(lc aggregate.LiveChat) error {
	if err := checkID("id", lc.ID); err != nil {
		return err
	}
	err := firstErr(
		l.checkTime("requested_at", lc.RequestedAt, false),
		l.checkTime("connected_at", lc.ConnectedAt, false),
		l.checkTime("ended_at", lc.EndedAt, false),
	)
	if err != nil {
		return err
	}
	for i, a := range lc.Agents {
		err := firstErr(
			l.checkTime("joined_at", a.JoinedAt, false),
			l.checkTime("left_at", a.LeftAt, false),
		)
		if err != nil {
			return fmt.Errorf("agents[%d]: %w", i, err)
		}
	}
	return nil
}

// checkMessages sorts msgs by seq in place, checks every message and
// sanitises texts that are not valid UTF-8.
func (l limits) checkMessages(msgs []aggregate.Message) error {
	for i := range msgs {
		if err := l.checkMessage(&msgs[i]); err != nil {
			return err
		}
	}
	slices.SortStableFunc(msgs, func(a, b aggregate.Message) int { return cmp.Compare(a.Seq, b.Seq) })
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Seq == msgs[i-1].Seq {
			return fmt.Errorf("message seq %d appears twice on one page", msgs[i].Seq)
		}
	}
	return nil
}

func (l limits) checkMessage(m *aggregate.Message) error {
	if m.Seq <= 0 || m.Seq > maxSeq {
		return fmt.Errorf("message seq %d is out of range 1..%d", m.Seq, int64(maxSeq))
	}
	if err := l.checkTime("sent_at", m.SentAt, true); err != nil {
		return fmt.Errorf("message seq %d: %w", m.Seq, err)
	}
	if len(m.Text) > l.maxText {
		return fmt.Errorf("message seq %d: text of %d bytes is over the cap of %d", m.Seq, len(m.Text), l.maxText)
	}
	// encoding/json already replaces invalid UTF-8; this keeps the promise
	// should the decoder ever change.
	m.Text = strings.ToValidUTF8(m.Text, "\uFFFD")
	return nil
}

// firstErr returns the first non-nil error, so that a message names one
// problem on one line.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
