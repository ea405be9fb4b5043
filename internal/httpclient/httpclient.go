// Package httpclient is the HTTP transport shared by the chat platform and
// ESM clients: retries with a bounded budget, a capped Retry-After, a request
// rate ceiling that counts every attempt, a timeout per attempt, and response
// bodies read through a size cap, or streamed to the caller (Stream).
//
// It knows nothing about either API; each client maps status codes and
// bodies to its own typed errors.
package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// Defaults used when an Options field is zero.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultRetries       = 4
	DefaultMinWait       = 250 * time.Millisecond
	DefaultMaxWait       = 5 * time.Second
	DefaultMaxRetryAfter = 10 * time.Second
	DefaultMaxBodyBytes  = 32 << 20
)

// Options configures a Client.
type Options struct {
	// Timeout bounds one attempt, from sending the request to reading the
	// last byte of the body; for Stream, the wait for the header and each
	// wait for more of the body.
	Timeout time.Duration
	// Retries is how many times a retryable request is tried again;
	// negative means never.
	Retries int
	// MinWait and MaxWait bound the exponential back-off between attempts.
	MinWait, MaxWait time.Duration
	// MaxRetryAfter caps a server's Retry-After, so that one answer of
	// "3600" cannot stall a pass.
	MaxRetryAfter time.Duration
	// MaxRPS is a ceiling on request starts per second, retries included;
	// 0 means none.
	MaxRPS float64
	// MaxBodyBytes caps how much of a response body is read.
	MaxBodyBytes int64
	// CAFile names a PEM bundle trusted in addition to the system roots.
	CAFile string
	// MaxConns is the number of idle connections kept per host; set it to
	// the concurrency of the caller so that connections are reused.
	MaxConns int
	// Logger receives retry notices at debug level; nil discards them.
	Logger *slog.Logger
	// UserAgent is sent on every request.
	UserAgent string
	// Observer, when set, is told about every attempt and every wait for
	// the rate ceiling; metrics use it.
	Observer Observer
}

// Observer watches a Client's traffic. Its methods must be safe for
// concurrent use and quick.
type Observer interface {
	// Attempt reports one attempt at a request of the endpoint class
	// endpoint: its status code (0 when no response came), how long it
	// took, and whether it was a retry.
	Attempt(endpoint string, code int, d time.Duration, retry bool)
	// RateWait reports that an attempt waited d for the rate ceiling.
	RateWait(d time.Duration)
}

// Client sends requests with the retry, rate and size policy of Options.
// It is safe for concurrent use.
type Client struct {
	rc *retryablehttp.Client
	// streamRC is rc for Stream: the same policy, but no timeout on the
	// whole attempt (see Stream).
	streamRC  *retryablehttp.Client
	timeout   time.Duration
	limiter   *rate.Limiter
	maxBody   int64
	maxAfter  time.Duration
	userAgent string
	logger    *slog.Logger
	observer  Observer
}

// New returns a Client. It fails only when CAFile cannot be used.
func New(o Options) (*Client, error) {
	o = o.withDefaults()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = o.MaxConns
	if o.CAFile != "" {
		pool, err := loadCAs(o.CAFile)
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c := &Client{
		timeout:   o.Timeout,
		maxBody:   o.MaxBodyBytes,
		maxAfter:  o.MaxRetryAfter,
		userAgent: o.UserAgent,
		logger:    o.Logger,
		observer:  o.Observer,
	}
	if o.MaxRPS > 0 {
		// A burst of one and a small margin keep every one-second window,
		// measured where the requests arrive, at or under MaxRPS starts.
		c.limiter = rate.NewLimiter(rate.Limit(o.MaxRPS*0.95), 1)
	}
	c.rc = c.retrying(o, &http.Client{Timeout: o.Timeout, Transport: transport})
	// A stream has its own connections, whose wait for the answer's header
	// is bounded by Timeout; its body by Stream.
	streaming := transport.Clone()
	streaming.ResponseHeaderTimeout = o.Timeout
	c.streamRC = c.retrying(o, &http.Client{Transport: streaming})
	return c, nil
}

// retrying wraps hc in the retry, back-off and rate policy of o.
func (c *Client) retrying(o Options, hc *http.Client) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:     hc,
		RetryWaitMin:   o.MinWait,
		RetryWaitMax:   o.MaxWait,
		RetryMax:       max(o.Retries, 0),
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: c.beforeAttempt,
	}
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.MinWait <= 0 {
		o.MinWait = DefaultMinWait
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.UserAgent == "" {
		o.UserAgent = "syncworker"
	}
	return o
}

func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate found", file)
	}
	return pool, nil
}

// Request is one HTTP call. Body, when set, is sent as is with ContentType.
type Request struct {
	Method      string
	URL         string
	Header      http.Header
	Body        []byte
	ContentType string
	// Retry allows retrying a request that is not a GET or HEAD. Set it
	// only when repeating the request cannot do harm (a PATCH that
	// replaces values, a login).
	Retry bool
	// Endpoint names the request's endpoint class for metrics ("session",
	// "messages", …); never an id. Empty is the method.
	Endpoint string
}

// Response is a completed call with its whole body.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Attempts is how many times the request was sent.
	Attempts int
}

// Do sends r. It returns an error only when no response could be had:
// connection failures after the retry budget, a body over the cap, a body
// that broke off, or ctx ending. Any status code, including those still
// failing after retries (429, 5xx), comes back as a Response.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	ctx, st := withState(ctx, r)
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	var out *Response
	req.SetResponseHandler(func(resp *http.Response) error {
		b, err := c.readBody(resp)
		if err != nil {
			return err
		}
		out = &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}
		return nil
	})
	resp, err := c.rc.Do(req)
	return c.finish(ctx, r, req, st, resp, err, out)
}

func withState(ctx context.Context, r Request) (context.Context, *attemptState) {
	st := &attemptState{retry: r.Retry || r.Method == http.MethodGet || r.Method == http.MethodHead,
		endpoint: r.Endpoint}
	if st.endpoint == "" {
		st.endpoint = r.Method
	}
	return context.WithValue(ctx, stateKey{}, st), st
}

func (c *Client) newRequest(ctx context.Context, r Request) (*retryablehttp.Request, error) {
	var body any
	if r.Body != nil {
		body = r.Body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	return req, nil
}

// finish turns the outcome of the retry loop into Do's result: out, as the
// response handler made it, or the last response or error.
func (c *Client) finish(ctx context.Context, r Request, req *retryablehttp.Request, st *attemptState,
	resp *http.Response, err error, out *Response) (*Response, error) {
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A *url.Error repeats the full URL, query and all; say it once,
		// redacted.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s %s: %d attempt(s): %w", r.Method, redact(req), st.attempts, err)
	}
	if out == nil {
		// The retry budget ran out on a retryable status; the handler did
		// not see this last response.
		b, err := c.readBody(resp)
		if err != nil {
			return nil, err
		}
		out = &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}
	}
	out.Attempts = st.attempts
	return out, nil
}

// readBody reads and closes the body, failing when it is larger than the cap
// or, for a successful JSON answer, not valid JSON (a body cut off in
// transit), so that the attempt can be retried.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := ReadLimited(resp.Body, resp.ContentLength, c.maxBody)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 && len(b) > 0 && isJSON(resp.Header) && !json.Valid(b) {
		return nil, &MalformedBodyError{Status: resp.StatusCode, Size: len(b)}
	}
	return b, nil
}

func isJSON(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= 16 && ct[:16] == "application/json"
}

// MalformedBodyError is a successful answer whose JSON body does not parse.
type MalformedBodyError struct {
	Status int
	Size   int
}

func (e *MalformedBodyError) Error() string {
	return fmt.Sprintf("status %d with a malformed JSON body (%d bytes)", e.Status, e.Size)
}

type stateKey struct{}

// attemptState travels in the request context, so that the policy hooks of
// the shared retryablehttp client know about the request they judge.
type attemptState struct {
	retry    bool
	attempts int
	endpoint string
	started  time.Time // of the current attempt
	// streamed is set once a stream's body went to its reader: the
	// request is then never tried again.
	streamed bool
}

func stateOf(ctx context.Context) *attemptState {
	if st, ok := ctx.Value(stateKey{}).(*attemptState); ok {
		return st
	}
	return &attemptState{}
}

// beforeAttempt runs before every attempt, the first included: it counts
// attempts and holds each one to the rate ceiling. Waiting here, outside
// the http.Client, keeps queueing from eating into the attempt's timeout.
func (c *Client) beforeAttempt(_ retryablehttp.Logger, req *http.Request, retry int) {
	stateOf(req.Context()).attempts++
	if retry > 0 && c.logger != nil {
		c.logger.Debug("retrying request", "method", req.Method, "url", redactURL(req), "retry", retry)
	}
	if c.limiter != nil {
		// An error here means the context ended; the attempt that follows
		// fails at once with that error.
		start := time.Now()
		_ = c.limiter.Wait(req.Context())
		if d := time.Since(start); c.observer != nil && d > time.Millisecond {
			c.observer.RateWait(d)
		}
	}
	stateOf(req.Context()).started = time.Now()
}

// observe reports the attempt that just ended to the observer, once.
func (c *Client) observe(st *attemptState, resp *http.Response) {
	if c.observer == nil || st.started.IsZero() {
		return
	}
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	c.observer.Attempt(st.endpoint, code, time.Since(st.started), st.attempts > 1)
	// retryablehttp judges a successful attempt twice when a response
	// handler is set: report it once.
	st.started = time.Time{}
}

// checkRetry retries connection failures, broken bodies and the statuses a
// busy or stumbling server answers with (429, 500, 502, 503, 504), and only
// for requests that are safe to repeat. 501 and every 4xx but 429 are final.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	c.observe(stateOf(ctx), resp)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if st := stateOf(ctx); !st.retry || st.streamed {
		return false, nil
	}
	if err != nil {
		var tooLarge *BodyTooLargeError
		if errors.As(err, &tooLarge) {
			return false, err
		}
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, nil
	}
	return false, nil
}

// backoff honours Retry-After up to the cap, and otherwise waits
// exponentially longer with jitter.
func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := RetryAfter(resp.Header, time.Now()); ok {
			return min(d, c.maxAfter)
		}
	}
	ceiling := min(maxWait, minWait<<min(attempt, 16))
	return ceiling/2 + rand.N(ceiling/2+1)
}

func redact(req *retryablehttp.Request) string { return redactURL(req.Request) }

// redactURL drops the query, which may carry filters with personal data,
// and any user info.
func redactURL(req *http.Request) string {
	u := *req.URL
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
