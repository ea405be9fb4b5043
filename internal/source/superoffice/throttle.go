package superoffice

import (
	"sync"
	"time"
)

// warnEvery is how often one warning (an unknown status, say) is logged
// again: about once per pass for passes shorter than that, rather than
// once per session.
const warnEvery = time.Minute

// throttle lets a warning through once per key and warnEvery.
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	last map[string]time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, last: map[string]time.Time{}}
}

// allow reports whether the warning key may be logged now.
func (t *throttle) allow(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if last, ok := t.last[key]; ok && now.Sub(last) < warnEvery && !now.Before(last) {
		return false
	}
	if len(t.last) > 1000 {
		clear(t.last)
	}
	t.last[key] = now
	return true
}

// warn logs msg at warn level, at most once per key and warnEvery.
func (c *Client) warn(key, msg string, args ...any) {
	if c.warned.allow(key) {
		c.log.Warn(msg, args...)
	}
}

// memoTTL is how long messages Session fetched wait for Messages.
const memoTTL = time.Minute

// memo hands the messages Session fetched to the Messages call that
// follows it, so that one pass asks for a session's new messages once.
type memo struct {
	mu sync.Mutex
	m  map[int64]memoEntry
}

type memoEntry struct {
	after       int64
	msgs        []wireMessage
	whenStarted time.Time
	at          time.Time
}

func (m *memo) put(id int64, e memoEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) > 10000 {
		m.m = map[int64]memoEntry{}
	}
	m.m[id] = e
}

// take returns and forgets the messages of session id fetched after after,
// when they were fetched less than memoTTL before now.
func (m *memo) take(id, after int64, now time.Time) (memoEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[id]
	delete(m.m, id)
	if !ok || e.after != after || now.Sub(e.at) > memoTTL || now.Before(e.at) {
		return memoEntry{}, false
	}
	return e, true
}
