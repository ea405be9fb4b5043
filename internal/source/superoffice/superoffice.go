// Package superoffice is the source adapter of SuperOffice CRM Online's chat
// (SPEC §4.3.1, chat.platform: superoffice). It reads a chat session
// (GET /ChatSession/{id}) and its messages after a ChatMessageId
// (GET /ChatSession/{id}/Messages?after=), resolves agents through
// GET /Associate/{id} and GET /Person/{id}, and lists changed sessions
// through the ChatSession archive (OData, odata.nextLink paging). It
// implements source.Source, source.ChangeLister and source.Lister.
//
// A SuperOffice session is one live chat. Its agents are the user who
// accepted it, then one per TransferedSession message; the adapter keeps
// the first user and the transfers it has seen in a source.Cache (the
// state file in production), so that a transfer never rewrites who came
// first. Its cursor is the last ChatMessageId, in decimal.
//
// docs/sources/superoffice.md describes the mapping and every choice made
// where the vendor's reference is silent.
package superoffice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
)

// Authorization schemes of chat.auth_scheme.
const (
	SchemeBearer   = "Bearer"
	SchemeSOTicket = "SOTicket"
)

// Defaults used when an Options field is zero.
const (
	DefaultPageSize     = 200
	DefaultMaxTextBytes = 1 << 20
	DefaultMaxPages     = 10000
	// DefaultMaxMessages bounds one answer of GET Messages, which SuperOffice
	// does not page.
	DefaultMaxMessages = 100000
)

// Options configures a Client.
type Options struct {
	// BaseURL is the tenant's WebAPI root, e.g.
	// https://online.superoffice.com/Cust12345/api/v1.
	BaseURL string
	// Token is the access token (AuthScheme Bearer) or the ticket
	// (SOTicket) sent in the Authorization header, as is. Surrounding white
	// space is dropped.
	Token string
	// AuthScheme is SchemeBearer (default) or SchemeSOTicket.
	AuthScheme string
	// AppToken, when set, is sent as the SO-AppToken header.
	AppToken string
	// BotNames are message authors taken for the bot.
	BotNames []string
	// ReopenGrace is how long a Finished session may still be reopened by
	// the customer; until then it is returned ended but reopenable. 0 makes
	// Finished final at once.
	ReopenGrace time.Duration
	// PageSize is the $top of every archive request.
	PageSize int
	// MaxTextBytes caps one message's text; a longer text fails the
	// session's messages.
	MaxTextBytes int
	// MaxPages bounds the archive pages one listing follows, a safety net
	// behind the repeated-link and no-progress checks.
	MaxPages int
	// Cache keeps associate lookups and what the adapter must remember
	// about each session; nil keeps them in memory, for this process only.
	Cache source.Cache
	// Logger receives the adapter's warnings (an unknown status, a session
	// first seen after a transfer); nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HTTP is the transport policy: timeout, retries, rate ceiling, CA file,
	// body cap, logger.
	HTTP httpclient.Options
}

// Client talks to one SuperOffice tenant. It is safe for concurrent use.
type Client struct {
	hc       *httpclient.Client
	base     *url.URL
	auth     string
	appToken string
	secrets  []string
	bots     map[string]bool
	grace    time.Duration
	pageSize int
	maxText  int
	maxPages int
	cache    source.Cache
	log      *slog.Logger
	warned   *throttle
	now      func() time.Time

	// lookups joins concurrent lookups of one associate.
	lookups singleflight.Group
	// memo holds the messages Session fetched, for the Messages call that
	// follows it in the same pass.
	memo memo
	// listed remembers the archive's updatedDate of the sessions the last
	// listings showed, so that Session can report it.
	listedMu sync.Mutex
	listed   map[int64]time.Time
}

// New returns a Client for o. It fails when o is unusable; the error never
// contains a secret.
func New(o Options) (*Client, error) {
	base, err := parseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	token, appToken := strings.TrimSpace(o.Token), strings.TrimSpace(o.AppToken)
	if token == "" {
		return nil, errors.New("superoffice: token is required")
	}
	if badHeaderValue(token) || badHeaderValue(appToken) {
		return nil, errors.New("superoffice: token or app token contains white space or control characters")
	}
	scheme := cmp.Or(o.AuthScheme, SchemeBearer)
	if scheme != SchemeBearer && scheme != SchemeSOTicket {
		return nil, fmt.Errorf("superoffice: auth scheme %q is not %s or %s", o.AuthScheme, SchemeBearer, SchemeSOTicket)
	}
	if o.PageSize < 0 || o.MaxTextBytes < 0 || o.MaxPages < 0 || o.ReopenGrace < 0 {
		return nil, errors.New("superoffice: page size, text cap, page bound and reopen grace must not be negative")
	}
	hc, err := httpclient.New(o.HTTP)
	if err != nil {
		return nil, fmt.Errorf("superoffice: %w", err)
	}
	c := &Client{
		hc: hc, base: base, auth: scheme + " " + token, appToken: appToken,
		secrets:  []string{token},
		bots:     map[string]bool{},
		grace:    o.ReopenGrace,
		pageSize: cmp.Or(o.PageSize, DefaultPageSize),
		maxText:  cmp.Or(o.MaxTextBytes, DefaultMaxTextBytes),
		maxPages: cmp.Or(o.MaxPages, DefaultMaxPages),
		cache:    o.Cache,
		log:      o.Logger,
		now:      o.Now,
		listed:   map[int64]time.Time{},
	}
	if appToken != "" {
		c.secrets = append(c.secrets, appToken)
	}
	for _, b := range o.BotNames {
		if b = botKey(b); b != "" {
			c.bots[b] = true
		}
	}
	if c.cache == nil {
		c.cache = &source.MemoryCache{}
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.warned = newThrottle(c.now)
	return c, nil
}

// SetCache replaces the cache the adapter keeps associate lookups and its
// session records in (Options.Cache). Call it before the first request.
func (c *Client) SetCache(cache source.Cache) {
	if cache != nil {
		c.cache = cache
	}
}

func badHeaderValue(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// botKey is how an author is compared with chat.bot_names: trimmed and
// case-insensitive.
func botKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("superoffice: base URL %q is not an http(s) URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("superoffice: base URL %q must not have a query, fragment or user", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// endpoint returns the URL of path (unescaped, under the base) with query q.
func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

// get sends an authorised GET of rawURL and returns the body of a 2xx
// answer. notFound, when set, is the error a 404 means for this endpoint.
// A 401 is tried once more before it counts: the token is used as is and
// cannot be renewed, but one refusal may be a passing fault of the Online
// gateway.
func (c *Client) get(ctx context.Context, class, rawURL string, notFound error) ([]byte, error) {
	h := http.Header{"Authorization": {c.auth}, "Accept": {"application/json"}}
	if c.appToken != "" {
		h.Set("SO-AppToken", c.appToken)
	}
	var resp *httpclient.Response
	for attempt := 0; attempt < 2; attempt++ {
		var err error
		resp, err = c.hc.Do(ctx, httpclient.Request{Method: http.MethodGet, URL: rawURL, Endpoint: class, Header: h.Clone()})
		if err != nil {
			return nil, source.FromTransport(err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			break
		}
	}
	if resp.StatusCode/100 == 2 {
		return resp.Body, nil
	}
	return nil, c.statusError(resp, notFound)
}

// parseSessionID reads a ChatSessionId as the engine has it from a card.
func parseSessionID(id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 32)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: %s is not a SuperOffice ChatSessionId (a positive integer)", source.ErrNotFound, quoteID(id))
	}
	return n, nil
}

// quoteID quotes an id for an error message, shortened.
func quoteID(id string) string { return strconv.Quote(source.Clip(id, 64)) }

// The adapter's promises, checked by the compiler.
var (
	_ source.Source       = (*Client)(nil)
	_ source.ChangeLister = (*Client)(nil)
	_ source.Lister       = (*Client)(nil)
)
