// Package esm is a client for the subset of Efecte ESM's REST API
// (/rest-api/itsm/v1) that syncworker uses (SPEC §4.2), in the shapes of
// Efecte's published OpenAPI document: log in, read a template, list data
// cards page by page or in one stream, read, create and modify them.
//
// It is generic over attribute values: callers pass attribute codes and
// Values and get Cards back; mapping chat sessions to attributes is the sync
// engine's job. Transport concerns (retries, rate ceiling, timeouts, body
// caps) are internal/httpclient's.
package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// Defaults used when an Options field is zero.
const (
	DefaultRefreshBefore = time.Minute
	DefaultPageSize      = 200
	DefaultMaxPages      = 10000
	DefaultCreateTries   = 3
)

// Options configures a Client.
type Options struct {
	// BaseURL is the API root, e.g. https://acme.efectecloud.com/rest-api/itsm/v1.
	BaseURL string
	// Login and Password are an ESM local user's credentials.
	Login, Password string
	// HTTP configures the transport: timeouts, retries, rate, body cap.
	HTTP httpclient.Options
	// Now is the clock the token's expiry is judged by; nil is time.Now.
	Now func() time.Time
	// RefreshBefore is how long before the token's exp to log in again.
	RefreshBefore time.Duration
	// PageSize is the limit of one list request, 1 to 200.
	PageSize int
	// MaxPages bounds one listing, against a server that never ends it.
	MaxPages int
	// CreateTries bounds how often CreateCard posts a card whose earlier
	// attempts provably did not create it.
	CreateTries int
	// Logger receives login notices; nil discards them.
	Logger *slog.Logger
}

// Client talks to one ESM tenant. It is safe for concurrent use; all
// callers share one login.
type Client struct {
	base          string
	login         string
	password      string
	http          *httpclient.Client
	now           func() time.Time
	refreshBefore time.Duration
	pageSize      int
	maxPages      int
	createTries   int
	// maxCard bounds one card of a stream.
	maxCard int64
	logger  *slog.Logger
	// noStream is set once ESM answered the card stream with 405.
	noStream atomic.Bool

	logins singleflight.Group
	mu     sync.Mutex
	sess   session
}

// New returns a Client. It contacts nothing: the first call logs in.
func New(o Options) (*Client, error) {
	base, err := checkBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	if o.Login == "" || o.Password == "" {
		return nil, errors.New("esm: login and password are required")
	}
	hc, err := httpclient.New(o.HTTP)
	if err != nil {
		return nil, fmt.Errorf("esm: %w", err)
	}
	c := &Client{
		base: base, login: o.Login, password: o.Password, http: hc,
		now: o.Now, refreshBefore: o.RefreshBefore, pageSize: o.PageSize,
		maxPages: o.MaxPages, createTries: o.CreateTries, maxCard: o.HTTP.MaxBodyBytes, logger: o.Logger,
	}
	c.applyDefaults()
	return c, nil
}

func (c *Client) applyDefaults() {
	if c.now == nil {
		c.now = time.Now
	}
	if c.refreshBefore <= 0 {
		c.refreshBefore = DefaultRefreshBefore
	}
	if c.pageSize <= 0 || c.pageSize > DefaultPageSize {
		c.pageSize = DefaultPageSize
	}
	if c.maxPages <= 0 {
		c.maxPages = DefaultMaxPages
	}
	if c.createTries <= 0 {
		c.createTries = DefaultCreateTries
	}
	if c.maxCard <= 0 {
		c.maxCard = httpclient.DefaultMaxBodyBytes
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
}

func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("esm: unreadable base URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("esm: base URL %q: want http(s)://host/rest-api/itsm/v1", u.Redacted())
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("esm: base URL must not carry credentials, a query or a fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// request is one API call relative to the base URL.
type request struct {
	method string
	// path is already escaped; see cardPath.
	path  string
	query url.Values
	body  any
	// retry marks a non-GET request as safe to repeat.
	retry bool
}

// response is a 2xx answer.
type response struct {
	status int
	body   []byte
}

// do sends r with the session token, logging in first when needed and once
// more after a 401, and maps any non-2xx answer to a typed error.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	body, err := encodeBody(r.body)
	if err != nil {
		return nil, err
	}
	var resp *httpclient.Response
	for try := 0; try < 2; try++ {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		resp, err = c.http.Do(ctx, c.httpRequest(r, body, tok))
		if err != nil {
			return nil, &scrubbedError{msg: c.scrub(err.Error()), err: err}
		}
		if resp.StatusCode != http.StatusUnauthorized {
			break
		}
		c.forget(tok)
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.scrubError(errorFromResponse(resp.StatusCode, resp.Header, resp.Body, c.now()))
	}
	return &response{status: resp.StatusCode, body: resp.Body}, nil
}

// doStream sends the GET r like do, handing a 2xx body to read as it
// arrives (see httpclient.Stream); read is called at most once.
func (c *Client) doStream(ctx context.Context, r request, read func(io.Reader) error) error {
	var resp *httpclient.Response
	for try := 0; try < 2; try++ {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		resp, err = c.http.Stream(ctx, c.httpRequest(r, nil, tok), read)
		if err != nil {
			return &scrubbedError{msg: c.scrub(err.Error()), err: err}
		}
		if resp.StatusCode != http.StatusUnauthorized {
			break
		}
		c.forget(tok)
	}
	if resp.StatusCode/100 != 2 {
		return c.scrubError(errorFromResponse(resp.StatusCode, resp.Header, resp.Body, c.now()))
	}
	return nil
}

func encodeBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

func (c *Client) httpRequest(r request, body []byte, tok string) httpclient.Request {
	u := c.base + r.path
	if len(r.query) > 0 {
		// Efecte's own examples encode spaces as %20; Encode writes a
		// literal + as %2B, so every + left is a space.
		u += "?" + strings.ReplaceAll(r.query.Encode(), "+", "%20")
	}
	h := http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer " + tok}}
	req := httpclient.Request{Method: r.method, URL: u, Header: h, Retry: r.retry}
	if body != nil {
		req.Body, req.ContentType = body, "application/json"
	}
	return req
}

// decode unmarshals a 2xx body; an empty body leaves v unchanged.
func decode(resp *response, v any) error {
	if len(strings.TrimSpace(string(resp.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// templatePath and cardPath escape each path segment, so that a code or id
// cannot reach another endpoint.
func templatePath(template string) string { return "/dc/" + url.PathEscape(template) }

func cardPath(template, id string) string {
	return templatePath(template) + "/data/" + url.PathEscape(id)
}

func checkTemplate(template string) error {
	if template == "" {
		return errors.New("empty template code")
	}
	return nil
}

// scrub removes the password and the session token from text that came
// from elsewhere (a server's message, a transport error), so that neither
// can reach a log.
func (c *Client) scrub(s string) string {
	c.mu.Lock()
	tok := c.sess.token
	c.mu.Unlock()
	for _, secret := range []string{c.password, tok} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func (c *Client) scrubError(err error) error {
	var apiErr *APIError
	var rlErr *RateLimitError
	switch {
	case errors.As(err, &apiErr):
		apiErr.Message = c.scrub(apiErr.Message)
	case errors.As(err, &rlErr):
		rlErr.Message = c.scrub(rlErr.Message)
	}
	return err
}

// scrubbedError keeps the chain of a transport error (for errors.Is and
// errors.As) while its text has passed through scrub.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
