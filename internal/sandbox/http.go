package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// wrap counts, logs and injects faults around the handler of one route.
func (s *Server) wrap(api API, route string, h http.Handler) http.Handler {
	h = s.scripted(api, route, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.stats.count(route)
		d := s.faults.decide(api, route)
		// The request is logged when its status is written, before the
		// body: a client that has read the answer always finds its request
		// in the log. One that gets no answer is logged when the handler
		// gives up.
		log := func(status int) {
			s.stats.record(Request{
				Start:    start,
				Duration: time.Since(start),
				API:      api,
				Method:   r.Method,
				Route:    route,
				Path:     r.URL.Path,
				Status:   status,
				Fault:    d.kind,
			})
		}
		sw := &statusWriter{ResponseWriter: w, onStatus: log}
		s.serveWithFault(sw, r, api, h, d)
		if sw.status == 0 {
			log(0) // no answer: statusWriter never called log
		}
	})
}

func (s *Server) serveWithFault(w *statusWriter, r *http.Request, api API, h http.Handler, d decision) {
	if d.latency > 0 && !wait(r, d.latency) {
		return
	}
	if d.kind != "" {
		w.Header().Set(FaultHeader, d.kind)
	}
	switch d.kind {
	case FaultServerError:
		s.writeError(w, r, api, d.status, "injected fault: "+http.StatusText(d.status))
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(d.retryAfter))
		s.writeError(w, r, api, http.StatusTooManyRequests, "injected fault: rate limited")
	case FaultMalformed, FaultTruncated:
		rec := &recorder{header: make(http.Header)}
		h.ServeHTTP(rec, r)
		rec.breakInto(w, d.kind == FaultTruncated)
	default:
		h.ServeHTTP(w, r)
	}
}

// FaultHeader names the fault (a Fault* constant) injected into an answer,
// so that a test checking the answers against Efecte's document can tell
// the ones broken on purpose.
const FaultHeader = "Sandbox-Fault"

// statusWriter remembers the status written through it and tells
// onStatus, once, before the status goes out.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onStatus func(status int)
}

func (w *statusWriter) setStatus(code int) {
	if w.status == 0 {
		w.status = code
		if w.onStatus != nil {
			w.onStatus(code)
		}
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.setStatus(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.setStatus(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// recorder buffers a response so that a fault can break it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// breakInto writes the recorded response to w with half of its body:
// announced as such (malformed JSON) or under the full Content-Length
// (a truncated body; the server then drops the connection).
func (r *recorder) breakInto(w http.ResponseWriter, truncated bool) {
	body := r.body.Bytes()
	half := body[:len(body)/2]
	for k, v := range r.header {
		w.Header()[k] = v
	}
	announced := len(half)
	if truncated {
		announced = len(body)
	}
	w.Header().Set("Content-Length", strconv.Itoa(announced))
	w.WriteHeader(max(r.status, http.StatusOK))
	_, _ = w.Write(half)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"sandbox: encode response"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// esmError is the error body of the ESM API, Efecte's ApiException:
// {"code","message","error","url","timestamp"}. Like ESM it puts the status
// text in "error" and the detail in "message".
type esmError struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Error     string `json:"error"`
	URL       string `json:"url"`
	Timestamp string `json:"timestamp"`
}

// chatErrorWriter is a platform whose API answers errors in a shape of
// its own (SuperOffice's ErrorType and ErrorMessage), injected faults
// included.
type chatErrorWriter interface {
	writeChatError(w http.ResponseWriter, status int, msg string)
}

// writeError answers an error in the body shape of api.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, api API, status int, msg string) {
	if api == APIChat {
		if ew, ok := s.plat.(chatErrorWriter); ok {
			ew.writeChatError(w, status, msg)
			return
		}
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	writeJSON(w, status, esmError{
		Code:      status,
		Message:   msg,
		Error:     http.StatusText(status),
		URL:       baseURL(r) + strings.TrimPrefix(r.URL.Path, ESMPrefix),
		Timestamp: s.now().Format(time.RFC3339),
	})
}
