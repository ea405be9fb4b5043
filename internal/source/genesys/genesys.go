// Package genesys is the source adapter of Genesys Cloud (SPEC §4.3.2,
// chat.platform: genesys-cloud): web messaging conversations read through
// the Platform API v2, translated into the session and message model of
// internal/aggregate at this edge. It implements source.Source and
// source.Lister; Genesys has no "updated since" listing, so it is no
// source.ChangeLister and every tracked active conversation is polled each
// pass.
//
// Per pass and conversation it sends GET /api/v2/conversations/{id}, then
// fetches the bodies of the message ids it has not returned before
// (POST …/messages/bulk, at most 1,000 ids a call); a conversation with
// nothing new costs that one GET. Users and external contacts are looked
// up once and cached, in memory and in Options.Cache when given. It signs
// in with OAuth client credentials at the login host, reuses the token
// until shortly before it expires, and renews it once when the API answers
// 401.
//
// The cursor is the adapter's own: the message ids already returned near
// the newest one, and the time before which every listed id was returned
// (see cursor.go). Retries, the rate ceiling, timeouts and the body cap
// are the shared transport's (internal/httpclient).
package genesys

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
)

// Defaults used when an Options field is zero.
const (
	// DefaultBulkSize is the vendor's limit of message ids in one
	// …/messages/bulk request.
	DefaultBulkSize = 1000
	// DefaultPageSize is the page size of the analytics details query,
	// the vendor's maximum.
	DefaultPageSize     = 100
	DefaultMaxTextBytes = 1 << 20
	DefaultMaxPages     = 10000
	// DefaultMessageType is the messageType backfill keeps.
	DefaultMessageType = "webmessaging"
)

// Options configures a Client.
type Options struct {
	// BaseURL is the region's API host, e.g. https://api.mypurecloud.ie.
	BaseURL string
	// LoginURL is the region's login host, e.g. https://login.mypurecloud.ie;
	// tokens come from {LoginURL}/oauth/token.
	LoginURL string
	// ClientID and ClientSecret are the OAuth client credentials. The
	// secret never appears in an error or a log line.
	ClientID     string
	ClientSecret string
	// CustomerEmailAttribute is the participant attribute that holds the
	// customer's email; "" reads it from the external contact only.
	CustomerEmailAttribute string
	// MessageTypes are the messageType values backfill keeps; default
	// webmessaging.
	MessageTypes []string
	// BulkSize is the number of message ids sent in one bulk request, at
	// most DefaultBulkSize.
	BulkSize int
	// PageSize is the page size of the analytics details query, at most
	// DefaultPageSize.
	PageSize int
	// MaxTextBytes caps one message's text; a longer text fails the
	// conversation's messages.
	MaxTextBytes int
	// MaxPages bounds the pages of one backfill window.
	MaxPages int
	// Cache, when set, keeps the users and external contacts looked up
	// across processes (the tenant's state file); nil keeps them in memory
	// for this process only.
	Cache Cache
	// Now is the clock timestamps and token lifetimes are judged by; nil
	// is time.Now.
	Now func() time.Time
	// HTTP is the transport policy: timeout, retries, rate ceiling, CA
	// file, body cap, logger. The login host is reached through it too.
	HTTP httpclient.Options
}

// Client talks to one Genesys Cloud organisation. It is safe for
// concurrent use.
type Client struct {
	hc           *httpclient.Client
	base         string
	auth         *tokenSource
	emailAttr    string
	messageTypes []string
	bulkSize     int
	pageSize     int
	maxText      int
	maxPages     int
	now          func() time.Time
	log          *slog.Logger
	people       *people
	cache        Cache
	convs        *convCache
	secrets      []string
}

// New returns a Client for o. It fails when o is unusable; the error never
// contains the client secret.
func New(o Options) (*Client, error) {
	base, err := parseURL("base URL", o.BaseURL)
	if err != nil {
		return nil, err
	}
	login, err := parseURL("login URL", o.LoginURL)
	if err != nil {
		return nil, err
	}
	id, secret := strings.TrimSpace(o.ClientID), strings.TrimSpace(o.ClientSecret)
	if id == "" || secret == "" {
		return nil, errors.New("genesys: client id and client secret are required")
	}
	if strings.ContainsFunc(id+secret, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("genesys: client id or secret contains control characters")
	}
	if o.BulkSize < 0 || o.BulkSize > DefaultBulkSize || o.PageSize < 0 || o.PageSize > DefaultPageSize {
		return nil, fmt.Errorf("genesys: bulk size must be 1..%d and page size 1..%d", DefaultBulkSize, DefaultPageSize)
	}
	if o.MaxTextBytes < 0 || o.MaxPages < 0 {
		return nil, errors.New("genesys: text cap and page bound must not be negative")
	}
	hc, err := httpclient.New(o.HTTP)
	if err != nil {
		return nil, fmt.Errorf("genesys: %w", err)
	}
	c := &Client{
		hc:           hc,
		base:         base,
		emailAttr:    strings.TrimSpace(o.CustomerEmailAttribute),
		messageTypes: o.MessageTypes,
		bulkSize:     cmp.Or(o.BulkSize, DefaultBulkSize),
		pageSize:     cmp.Or(o.PageSize, DefaultPageSize),
		maxText:      cmp.Or(o.MaxTextBytes, DefaultMaxTextBytes),
		maxPages:     cmp.Or(o.MaxPages, DefaultMaxPages),
		now:          o.Now,
		log:          o.HTTP.Logger,
		people:       newPeople(),
		cache:        o.Cache,
		convs:        newConvCache(),
		secrets:      secretForms(id, secret),
	}
	if len(c.messageTypes) == 0 {
		c.messageTypes = []string{DefaultMessageType}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.auth = newTokenSource(c, login+"/oauth/token", id, secret)
	return c, nil
}

func parseURL(what, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("genesys: %s %q is not an http(s) URL", what, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("genesys: %s %q must not have a query, fragment or user info", what, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// call sends an authorised request to the API and returns the body of a
// 2xx answer. A 401 renews the token once and tries again; a second 401 is
// source.ErrUnauthorized. notFound, when set, is the error a 404 means.
// body, when not nil, is sent as JSON; a POST is retried like a GET, as
// every POST this adapter sends only reads.
func (c *Client) call(ctx context.Context, endpoint, method, path string, body []byte, notFound error) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.auth.token(ctx)
		if err != nil {
			return nil, err
		}
		req := httpclient.Request{
			Method:   method,
			URL:      c.base + path,
			Endpoint: endpoint,
			Header: http.Header{
				"Authorization": {"Bearer " + tok},
				"Accept":        {"application/json"},
			},
			Body:  body,
			Retry: true,
		}
		if body != nil {
			req.ContentType = "application/json"
		}
		resp, err := c.hc.Do(ctx, req)
		if err != nil {
			return nil, source.FromTransport(err)
		}
		switch {
		case resp.StatusCode/100 == 2:
			return resp.Body, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			// The token expired early or was revoked: one renewal.
			c.auth.invalidate(tok)
			continue
		}
		return nil, c.statusError(resp, notFound)
	}
}

// The adapter's promises, checked by the compiler. Genesys Cloud has no
// listing of conversations changed since a time, so no ChangeLister.
var (
	_ source.Source = (*Client)(nil)
	_ source.Lister = (*Client)(nil)
)

// SetCache replaces the cache the adapter keeps users and external
// contacts in (Options.Cache): the command line opens the tenant's state
// after building the source. Call it before the first request.
func (c *Client) SetCache(cache source.Cache) {
	if cache != nil {
		c.cache = cache
	}
}
