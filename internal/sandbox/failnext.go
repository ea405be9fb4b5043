package sandbox

import (
	"bytes"
	"cmp"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Failure is how one request chosen by FailNext goes wrong. The zero value
// changes nothing.
type Failure struct {
	// Handled lets the request take effect first (a card is created or
	// changed) so that only its answer goes wrong: the case a client cannot
	// tell from a request that never arrived.
	Handled bool
	// Delay holds the answer back; the wait ends early when the client
	// gives up. Without Handled, a request whose client gave up is not
	// handled.
	Delay time.Duration
	// Drop closes the connection instead of answering.
	Drop bool
	// Status answers with this status and an error body of the API instead
	// of the handler's answer; 0 keeps the handler's answer.
	Status int
	// Message is the error text of a Status answer; default the status
	// text.
	Message string
	// RetryAfter, when positive, is sent as Retry-After (seconds) with a
	// Status answer.
	RetryAfter int
	// Broken handles the request and answers half of the body: announced
	// as such with FaultMalformed (invalid JSON), cut short under the full
	// Content-Length with FaultTruncated.
	Broken string
}

// FailNext makes the next n requests of route (a Route* constant) fail as
// f; failures added for one route are used in the order they were added.
// Where the shares of Faults are random, this fails one exact request, as
// tests of a retry or a lost answer need. A request answered by an
// injected Fault does not use up a failure; failed requests are counted
// and logged like others.
func (s *Server) FailNext(route string, n int, f Failure) {
	s.faults.script.add(route, n, f)
}

// failureScript holds the pending failures of FailNext by route.
type failureScript struct {
	mu   sync.Mutex
	next map[string][]*pendingFailure // oldest first
}

type pendingFailure struct {
	f Failure
	n int
}

func (fs *failureScript) add(route string, n int, f Failure) {
	if n <= 0 {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.next == nil {
		fs.next = make(map[string][]*pendingFailure)
	}
	fs.next[route] = append(fs.next[route], &pendingFailure{f: f, n: n})
}

// take uses up the next failure of route, if there is one.
func (fs *failureScript) take(route string) (Failure, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	q := fs.next[route]
	if len(q) == 0 {
		return Failure{}, false
	}
	f := q[0].f
	if q[0].n--; q[0].n == 0 {
		fs.next[route] = q[1:]
	}
	return f, true
}

// scripted serves h, or the next failure FailNext set for route.
func (s *Server) scripted(api API, route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := s.faults.script.take(route)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		s.serveFailure(w, r, api, h, f)
	})
}

func (s *Server) serveFailure(w http.ResponseWriter, r *http.Request, api API, h http.Handler, f Failure) {
	var handled *recorder
	if f.Handled {
		handled = &recorder{header: make(http.Header)}
		h.ServeHTTP(handled, r)
	}
	if f.Delay > 0 && !wait(r, f.Delay) {
		return
	}
	switch {
	case f.Drop:
		drop(w)
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		s.writeError(w, r, api, f.Status, cmp.Or(f.Message, http.StatusText(f.Status)))
	case f.Broken != "":
		if handled == nil {
			handled = &recorder{header: make(http.Header)}
			h.ServeHTTP(handled, r)
		}
		w.Header().Set(FaultHeader, f.Broken)
		handled.breakInto(w, f.Broken == FaultTruncated)
	case handled != nil:
		handled.replay(w)
	default:
		h.ServeHTTP(w, r)
	}
}

// wait sleeps for d and reports whether the client is still there. It
// reads the request body first: the server notices a client that gives up
// only once the body has been read.
func wait(r *http.Request, d time.Duration) bool {
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	if sw, ok := w.(*statusWriter); ok {
		w = sw.ResponseWriter
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, or a response a Fault is recording):
		// the server aborts the response instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// replay writes the recorded response to w.
func (r *recorder) replay(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(max(r.status, http.StatusOK))
	_, _ = w.Write(r.body.Bytes())
}
