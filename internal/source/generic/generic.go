// Package generic is the source adapter of the generic chat platform API
// (SPEC §4.1, chat.platform: generic): it lists widget sessions, reads one
// session and pages through its messages, and implements source.Source,
// source.ChangeLister and source.Lister.
//
// It translates the wire JSON into the domain types of internal/aggregate at
// this edge and refuses what it cannot trust: malformed or implausible data,
// and servers whose paging would loop. Retries, the rate ceiling, timeouts and
// the body cap are the shared transport's (internal/httpclient). Its cursor
// is the decimal seq of the last message returned.
package generic

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
)

// Defaults used when an Options field is zero.
const (
	DefaultPageSize     = 200
	DefaultMaxTextBytes = 1 << 20
	DefaultMaxPages     = 10000
)

// Options configures a Client.
type Options struct {
	// BaseURL is the API root, e.g. https://chat.example.com/api/v1.
	BaseURL string
	// Token is sent as "Authorization: Bearer <Token>" on every request.
	// Surrounding white space (a trailing newline from a secrets file) is
	// dropped.
	Token string
	// PageSize is the limit asked for on every listing request.
	PageSize int
	// MaxTextBytes caps one message's text; a longer text fails the
	// session's messages.
	MaxTextBytes int
	// MaxPages bounds the pages one call follows, a safety net behind the
	// repeated-cursor and no-progress checks.
	MaxPages int
	// Now is the clock timestamps are checked against; nil is time.Now.
	Now func() time.Time
	// HTTP is the transport policy: timeout, retries, rate ceiling, CA file,
	// body cap, logger.
	HTTP httpclient.Options
}

// Client talks to one chat platform. It is safe for concurrent use.
type Client struct {
	hc       *httpclient.Client
	base     string
	token    string
	pageSize int
	maxText  int
	maxPages int
	now      func() time.Time
}

// New returns a Client for o. It fails when o is unusable; the error never
// contains the token.
func New(o Options) (*Client, error) {
	base, err := parseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(o.Token)
	if token == "" {
		return nil, errors.New("generic: token is required")
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("generic: token contains white space or control characters")
	}
	if o.PageSize < 0 || o.MaxTextBytes < 0 || o.MaxPages < 0 {
		return nil, errors.New("generic: page size, text cap and page bound must not be negative")
	}
	hc, err := httpclient.New(o.HTTP)
	if err != nil {
		return nil, fmt.Errorf("generic: %w", err)
	}
	c := &Client{
		hc:       hc,
		base:     base,
		token:    token,
		pageSize: cmp.Or(o.PageSize, DefaultPageSize),
		maxText:  cmp.Or(o.MaxTextBytes, DefaultMaxTextBytes),
		maxPages: cmp.Or(o.MaxPages, DefaultMaxPages),
		now:      o.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("generic: base URL %q is not an http(s) URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("generic: base URL %q must not have a query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// get sends an authorised GET of path (already escaped) with query q and
// returns the body of a 2xx answer. notFound, when set, is the error a 404
// means for this endpoint.
func (c *Client) get(ctx context.Context, endpoint, path string, q url.Values, notFound error) ([]byte, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, err := c.hc.Do(ctx, httpclient.Request{
		Method:   http.MethodGet,
		URL:      u,
		Endpoint: endpoint,
		Header: http.Header{
			"Authorization": {"Bearer " + c.token},
			"Accept":        {"application/json"},
		},
	})
	if err != nil {
		return nil, source.FromTransport(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp.Body, nil
	}
	return nil, c.statusError(resp, notFound)
}

// wrap adds the phrase of one layer to err, as "chat <operation>: …" (the
// format every API's errors share), and makes sure the token, which a
// hostile server could echo anywhere, never shows in the result.
func (c *Client) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("chat "+format+": %w", append(args, err)...)
	msg := err.Error()
	if !strings.Contains(msg, c.token) {
		return err
	}
	return source.Redacted(strings.ReplaceAll(msg, c.token, redacted), kindOf(err))
}

// The adapter's promises, checked by the compiler.
var (
	_ source.Source       = (*Client)(nil)
	_ source.ChangeLister = (*Client)(nil)
	_ source.Lister       = (*Client)(nil)
)
