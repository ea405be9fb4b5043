package sandbox

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Fault describes what goes wrong on one API. Shares are probabilities in
// [0, 1], drawn once per request; their sum should not exceed 1.
type Fault struct {
	// Latency is added before every request is handled. The wait ends early
	// when the client gives up.
	Latency time.Duration
	// ServerErrorShare of requests get 503, 502 or 500 without being handled.
	ServerErrorShare float64
	// RateLimitShare of requests get 429 with Retry-After without being
	// handled.
	RateLimitShare float64
	// RetryAfter is the Retry-After value of a 429 in seconds; default 1.
	RetryAfter int
	// MalformedShare of requests are handled (their effect happens) but the
	// response body is broken: half of it as complete, invalid JSON, or cut
	// short below its Content-Length.
	MalformedShare float64
	// Routes limits the fault to these Route* constants; empty is all routes.
	Routes []string
}

// Faults are the fault knobs of both APIs. The zero value injects nothing.
type Faults struct {
	Chat Fault
	ESM  Fault
	// Seed makes the fault sequence reproducible: with the same seed and
	// the same order of requests the same requests fail.
	Seed uint64
}

// Everywhere returns Faults that inject f on both APIs.
func Everywhere(f Fault) Faults { return Faults{Chat: f, ESM: f} }

// Fault kinds as they appear in Request.Fault.
const (
	FaultServerError = "server-error"
	FaultRateLimit   = "rate-limit"
	FaultMalformed   = "malformed"
	FaultTruncated   = "truncated"
)

type faultState struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
	// script holds the failures of FailNext (failnext.go).
	script failureScript
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{}
	fs.set(f)
	return fs
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// SetFaults replaces the fault knobs and restarts their random sequence.
// It may be called while requests are being served.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the current fault knobs.
func (s *Server) Faults() Faults {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.f
}

// decision is what the fault knobs chose for one request.
type decision struct {
	latency    time.Duration
	kind       string // one of the Fault* constants or ""
	status     int    // for FaultServerError
	retryAfter int
}

func (fs *faultState) decide(api API, route string) decision {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f.Chat
	if api == APIESM {
		f = fs.f.ESM
	}
	if len(f.Routes) > 0 && !slices.Contains(f.Routes, route) {
		return decision{}
	}
	d := decision{latency: f.Latency}
	if f.ServerErrorShare <= 0 && f.RateLimitShare <= 0 && f.MalformedShare <= 0 {
		return d
	}
	u := fs.rng.Float64()
	switch {
	case u < f.ServerErrorShare:
		d.kind = FaultServerError
		d.status = []int{503, 502, 500}[fs.rng.IntN(3)]
	case u < f.ServerErrorShare+f.RateLimitShare:
		d.kind = FaultRateLimit
		d.retryAfter = max(f.RetryAfter, 1)
	case u < f.ServerErrorShare+f.RateLimitShare+f.MalformedShare:
		d.kind = FaultMalformed
		if fs.rng.IntN(2) == 0 {
			d.kind = FaultTruncated
		}
	}
	return d
}
