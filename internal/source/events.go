package source

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// EventStore keeps the events a platform pushes (CCAI Platform's chat
// events) between the receiver that accepts them and the adapter that
// applies them when it syncs their session. In production it is the
// tenant's state file (internal/state); bodies are the adapter's own
// encoding, namespaced by the adapter.
//
// Implementations must be safe for concurrent use.
type EventStore interface {
	// AddEvent stores one event of session, happening at at and received
	// at received, and returns once it is durable. An event whose digest
	// is stored already for the session is not stored again (added is
	// false).
	AddEvent(ctx context.Context, namespace, session string, at, received time.Time, digest string, body []byte) (added bool, err error)
	// Events calls fn with every stored event of session in event time
	// order, ties in the order they were received.
	Events(ctx context.Context, namespace, session string, fn func(at, received time.Time, body []byte) error) error
	// EventsSince calls fn once for every session that received an event
	// at or after since, with the time the latest was received.
	EventsSince(ctx context.Context, namespace string, since time.Time, fn func(session string, last time.Time) error) error
}

// Receiver is implemented by a Source whose platform pushes events to
// syncworker (SPEC §4.3.3): `run -listen` serves its handler at
// POST /events/<EventsPath>/<tenant>.
type Receiver interface {
	// EventsPath is the path segment the platform's events arrive under.
	EventsPath() string
	// EventHandler returns the handler of the tenant's event webhook, and
	// false when the tenant takes no events (no secrets configured). It
	// stores each accepted event before answering and then calls
	// accepted with the event's session id, so that the caller can sync
	// it soon. Calling it tells the source that events arrive, so that it
	// stops polling sessions that get them.
	EventHandler(accepted func(sessionID string)) (http.Handler, bool)
}

// MemoryEvents is an EventStore that lives as long as the process: for
// tests, and for an adapter built without the state file.
type MemoryEvents struct {
	mu     sync.Mutex
	events map[[2]string][]memoryEvent
	seen   map[[3]string]bool
}

type memoryEvent struct {
	at, received time.Time
	body         []byte
}

// AddEvent implements EventStore.
func (m *MemoryEvents) AddEvent(_ context.Context, namespace, session string, at, received time.Time, digest string, body []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events, m.seen = map[[2]string][]memoryEvent{}, map[[3]string]bool{}
	}
	if k := [3]string{namespace, session, digest}; m.seen[k] {
		return false, nil
	} else {
		m.seen[k] = true
	}
	k := [2]string{namespace, session}
	evs := append(m.events[k], memoryEvent{at, received, slices.Clone(body)})
	slices.SortStableFunc(evs, func(a, b memoryEvent) int { return a.at.Compare(b.at) })
	m.events[k] = evs
	return true, nil
}

// Events implements EventStore.
func (m *MemoryEvents) Events(_ context.Context, namespace, session string, fn func(at, received time.Time, body []byte) error) error {
	m.mu.Lock()
	evs := slices.Clone(m.events[[2]string{namespace, session}])
	m.mu.Unlock()
	for _, e := range evs {
		if err := fn(e.at, e.received, e.body); err != nil {
			return err
		}
	}
	return nil
}

// EventsSince implements EventStore.
func (m *MemoryEvents) EventsSince(_ context.Context, namespace string, since time.Time, fn func(string, time.Time) error) error {
	m.mu.Lock()
	last := map[string]time.Time{}
	for k, evs := range m.events {
		for _, e := range evs {
			if k[0] == namespace && !e.received.Before(since) && e.received.After(last[k[1]]) {
				last[k[1]] = e.received
			}
		}
	}
	m.mu.Unlock()
	for id, t := range last {
		if err := fn(id, t); err != nil {
			return err
		}
	}
	return nil
}
