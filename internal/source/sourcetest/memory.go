package sourcetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// Memory is a Source held in memory, for engine tests that need no HTTP.
// It implements source.ChangeLister and source.Lister; its cursor is the
// number of messages already returned. The zero value is not usable: call
// NewMemory.
type Memory struct {
	mu       sync.Mutex
	sessions map[string]*memSession
	fault    Fault
	now      func() time.Time
}

type memSession struct {
	s    aggregate.Session
	msgs []aggregate.Message
}

// NewMemory returns an empty Memory whose UpdatedAt stamps come from now
// (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{sessions: map[string]*memSession{}, now: now}
}

// Seed adds or replaces a session and its transcript.
func (m *Memory) Seed(s aggregate.Session, msgs []aggregate.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = &memSession{s: s, msgs: slices.Clone(msgs)}
	return nil
}

// Append adds messages to a session and moves its UpdatedAt to now.
func (m *Memory) Append(id string, msgs ...aggregate.Message) error {
	return m.Update(id, func(s *aggregate.Session) {}, msgs...)
}

// Update lets fn change a session, appends msgs, and moves its UpdatedAt
// to now.
func (m *Memory) Update(id string, fn func(*aggregate.Session), msgs ...aggregate.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ms, ok := m.sessions[id]
	if !ok {
		return fmt.Errorf("memory source: no session %s", id)
	}
	fn(&ms.s)
	ms.msgs = append(ms.msgs, msgs...)
	ms.s.UpdatedAt = m.now()
	return nil
}

// SetFault switches a fault on or off; RepeatedPage acts as Garbled here.
func (m *Memory) SetFault(f Fault) {
	m.mu.Lock()
	m.fault = f
	m.mu.Unlock()
}

func (m *Memory) check(id string) (*memSession, error) {
	switch m.fault {
	case Unavailable:
		return nil, fmt.Errorf("memory source: %w", source.ErrUnavailable)
	case Garbled, RepeatedPage:
		return nil, fmt.Errorf("memory source: session %s: %w", id, source.ErrInvalid)
	}
	ms, ok := m.sessions[id]
	if !ok {
		return nil, fmt.Errorf("memory source: session %s: %w", id, source.ErrNotFound)
	}
	return ms, nil
}

// Session implements source.Source.
func (m *Memory) Session(_ context.Context, id string) (aggregate.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ms, err := m.check(id)
	if err != nil {
		return aggregate.Session{}, err
	}
	return ms.s, nil
}

// Messages implements source.Source.
func (m *Memory) Messages(_ context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ms, err := m.check(id)
	if err != nil {
		return nil, "", err
	}
	n := 0
	if cursor != "" {
		if n, err = strconv.Atoi(cursor); err != nil || n < 0 || n > len(ms.msgs) {
			return nil, "", fmt.Errorf("memory source: cursor %q: %w", cursor, source.ErrInvalid)
		}
	}
	return slices.Clone(ms.msgs[n:]), strconv.Itoa(len(ms.msgs)), nil
}

// Check implements source.Source.
func (m *Memory) Check(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fault == Unavailable {
		return fmt.Errorf("memory source: %w", source.ErrUnavailable)
	}
	return nil
}

// ListChanges implements source.ChangeLister.
func (m *Memory) ListChanges(ctx context.Context, since time.Time, fn func(source.Listed) error) error {
	return m.ListSessions(ctx, since, time.Time{}, fn)
}

// ListSessions implements source.Lister.
func (m *Memory) ListSessions(_ context.Context, since, until time.Time, fn func(source.Listed) error) error {
	m.mu.Lock()
	var out []source.Listed
	for _, ms := range m.sessions {
		s := ms.s
		if s.UpdatedAt.Before(since) || !until.IsZero() && !s.StartedAt.Before(until) {
			continue
		}
		out = append(out, source.Listed{ID: s.ID, Status: s.Status, StartedAt: s.StartedAt, UpdatedAt: s.UpdatedAt})
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b source.Listed) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, l := range out {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ source.Source       = (*Memory)(nil)
	_ source.ChangeLister = (*Memory)(nil)
	_ source.Lister       = (*Memory)(nil)
)
