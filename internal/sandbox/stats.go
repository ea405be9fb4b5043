package sandbox

import (
	"maps"
	"sync"
	"time"
)

// Request is one entry of the request log.
type Request struct {
	// Start is when the request arrived, by the wall clock (not Options.Now),
	// so that tests can see pacing and concurrency.
	Start time.Time
	// Duration is the time to the answer's status line (its body may take
	// longer), or to the handler giving up when there was no answer.
	Duration time.Duration
	API      API
	Method   string
	// Route is one of the Route* constants.
	Route string
	// Path is the request path as sent, without the query.
	Path string
	// Status is the status answered; 0 when the client went away first.
	Status int
	// Fault names the injected fault, "" when none.
	Fault string
}

type stats struct {
	mu     sync.Mutex
	counts map[string]int
	log    []Request // ring buffer of at most size entries
	next   int       // where the next entry goes once the ring is full
	size   int
}

func newStats(size int) *stats {
	return &stats{counts: make(map[string]int), size: size}
}

func (st *stats) count(route string) {
	st.mu.Lock()
	st.counts[route]++
	st.mu.Unlock()
}

func (st *stats) record(r Request) {
	if st.size < 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.log) < st.size {
		st.log = append(st.log, r)
		return
	}
	st.log[st.next] = r
	st.next = (st.next + 1) % st.size
}

// Counts returns how many requests each route received since the start or
// the last ResetStats, keyed by the Route* constants. Requests answered
// with an injected fault are counted too.
func (s *Server) Counts() map[string]int {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return maps.Clone(s.stats.counts)
}

// Count returns the number of requests route received.
func (s *Server) Count(route string) int {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.counts[route]
}

// Requests returns the request log, oldest first. It holds the last
// Options.RequestLogSize requests.
func (s *Server) Requests() []Request {
	st := s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Request, 0, len(st.log))
	out = append(out, st.log[st.next:]...)
	return append(out, st.log[:st.next]...)
}

// ResetStats clears the counters and the request log.
func (s *Server) ResetStats() {
	st := s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	st.counts = make(map[string]int)
	st.log = nil
	st.next = 0
}
