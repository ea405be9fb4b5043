package esmspec

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// Counts are the ESM exchanges checked in this process so far.
type Counts struct {
	// Requests were checked against their operation: path, parameters,
	// security and body.
	Requests int64
	// Responses were checked against their operation's responses, the
	// status included.
	Responses int64
	// Tolerated answers were let through unchecked by a toleration.
	Tolerated int64
	// Violations were reported.
	Violations int64
}

var totals struct{ requests, responses, tolerated, violations atomic.Int64 }

// Totals returns the counts of every Handler of this process.
func Totals() Counts {
	return Counts{Requests: totals.requests.Load(), Responses: totals.responses.Load(),
		Tolerated: totals.tolerated.Load(), Violations: totals.violations.Load()}
}

// Summary describes Totals in one line, for a test binary's TestMain.
func Summary() string {
	c := Totals()
	return fmt.Sprintf("esmspec: %d ESM requests and %d answers checked against Efecte's document, %d answers tolerated, %d violations",
		c.Requests, c.Responses, c.Tolerated, c.Violations)
}

// maxBody bounds how much of a request or answer is kept for checking.
const maxBody = 64 << 20

var (
	requestOptions  = &openapi3filter.Options{AuthenticationFunc: bearerPresent, MultiError: true}
	responseOptions = &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
)

// bearerPresent holds a request to JWTAuth: an Authorization header with a
// bearer token. Whether the token is valid is the server's business.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errors.New("no Authorization: Bearer <token>")
	}
	return nil
}

// operation is what the tolerations need to know of a request's operation.
type operation struct {
	path    string
	secured bool
}

// Handler returns h with each ESM exchange (a request under
// sandbox.ESMPrefix) checked against the document: the request against its
// operation's path, parameters, security and body, and h's answer against
// the operation's responses, status included. Each violation is passed to
// report. The answer reaches the client as h writes it, streamed or not;
// an answer the client went away from, or that h hijacked, is not checked.
func (s *Spec) Handler(h http.Handler, report func(violation string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, sandbox.ESMPrefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		fail := func(format string, args ...any) {
			totals.violations.Add(1)
			report(fmt.Sprintf("%s %s: ", r.Method, r.URL.Path) + fmt.Sprintf(format, args...))
		}
		in, op, ok := s.checkRequest(r, fail)
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if ok && tw.complete() {
			s.checkResponse(in, op, tw, fail)
		}
	})
}

// checkRequest checks r and returns the input its answer is checked
// with; false when the request matched no operation or could not be read.
func (s *Spec) checkRequest(r *http.Request, fail func(string, ...any)) (*openapi3filter.RequestValidationInput, *operation, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, nil, false // the client went away
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	vr := r.Clone(r.Context())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := s.router.FindRoute(vr)
	if err != nil {
		fail("no operation of the document: %v", err)
		return nil, nil, false
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: requestOptions}
	totals.requests.Add(1)
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		fail("request: %v", err)
	}
	op := &operation{path: route.Path, secured: route.Operation.Security != nil && len(*route.Operation.Security) > 0}
	if route.Operation.Security == nil && s.doc.Security != nil {
		op.secured = len(s.doc.Security) > 0
	}
	return in, op, true
}

func (s *Spec) checkResponse(in *openapi3filter.RequestValidationInput, op *operation, tw *teeWriter, fail func(string, ...any)) {
	for _, t := range tolerations {
		if t.applies(op, tw.status, tw.Header()) {
			totals.tolerated.Add(1)
			return
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: tw.status,
		Header: tw.Header(), Options: responseOptions}
	out.SetBodyBytes(tw.body.Bytes())
	totals.responses.Add(1)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		fail("answer %d: %v", tw.status, err)
	}
}

// teeWriter passes an answer on to the client as it is written and keeps a
// copy of it.
type teeWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
	broken   bool
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < maxBody {
		w.body.Write(b)
	}
	n, err := w.ResponseWriter.Write(b)
	if err != nil {
		w.broken = true
	}
	return n, err
}

// complete reports whether a whole answer went to the client.
func (w *teeWriter) complete() bool {
	return w.status != 0 && !w.hijacked && !w.broken && w.body.Len() < maxBody
}

// Unwrap lets http.ResponseController reach the client's writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, so that a streamed answer stays streamed.
func (w *teeWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Hijack passes a hijack on (the sandbox drops connections so); the answer
// is then not checked.
func (w *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
