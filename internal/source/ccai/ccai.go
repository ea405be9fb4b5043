// Package ccai is the source adapter of Google Cloud CCAI Platform (SPEC
// §4.3.3, chat.platform: ccai-platform). CCAI Platform pushes chat events
// rather than answering "what changed", and drops a transcript file into
// the tenant's export storage once a chat ends. The adapter puts the three
// together at this edge:
//
//   - events, received by the handler of EventHandler (`run -listen`,
//     POST /events/ccai/<tenant>), checked, stored in the EventStore (the
//     tenant's state file) before the 202, and applied per chat in event
//     time order whenever the chat is synced (events.go, chat.go);
//   - the Apps API, GET /chats/{id} with HTTP Basic (subdomain, token),
//     asked when a chat is first seen and then only after chat.poll_after
//     without an event, or every pass when no events arrive (cron once);
//     agents' emails from the Manager API, looked up once and cached;
//   - the transcript file <chat_id>.json in chat.transcripts_dir, read
//     whole once it parses (transcript.go).
//
// A chat that has ended is kept open (aggregate.Session.ReopenableUntil)
// until its transcript was read or chat.transcript_wait has passed, so
// that its card is closed with its full log. The message cursor is "" until
// the transcript was read and "t" after: the log is read once, whole.
//
// It implements source.Source, source.Receiver and source.ChangeLister:
// the sessions that received events since a time are the change listing.
// Without a receiver the listing is source.ErrNotSupported and every
// tracked chat is polled each pass.
package ccai

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
)

// Namespace is the adapter's namespace in the event store and the cache.
const Namespace = "ccai-platform"

// Defaults used when an Options field is zero.
const (
	DefaultPollAfter      = 10 * time.Minute
	DefaultTranscriptWait = 24 * time.Hour
	// DefaultMaxTranscriptBytes bounds a transcript file; a larger one is
	// invalid rather than read.
	DefaultMaxTranscriptBytes = 32 << 20
	// MaxEventBytes is the largest event body accepted (SPEC: 1 MiB).
	MaxEventBytes = 1 << 20
	// SignatureWindow is how far X-Signature-Timestamp may be from now,
	// either way.
	SignatureWindow = 5 * time.Minute
)

// Options configures a Client.
type Options struct {
	// BaseURL is the Apps API root, https://<subdomain>.<domain>/apps/api/v1.
	// The Manager API is reached on the same host.
	BaseURL string
	// Subdomain and Token are the HTTP Basic user and password. Neither
	// appears in an error or a log line.
	Subdomain, Token string
	// TranscriptsDir is where the export storage lands <chat_id>.json.
	TranscriptsDir string
	// EventsSecrets are the webhook's shared secrets, one or two while
	// rotating; none takes no events.
	EventsSecrets []string
	// PollAfter is how long a chat goes without an event before the Apps
	// API is asked again; TranscriptWait how long an ended chat waits for
	// its transcript.
	PollAfter, TranscriptWait time.Duration
	// MaxTranscriptBytes bounds a transcript file.
	MaxTranscriptBytes int64
	// Cache keeps the Apps API answers and agent emails across processes
	// (the state file). When it is also a source.EventStore the events
	// are kept there; nil keeps both in memory.
	Cache source.Cache
	// Logger receives what the adapter notices (unknown states, chats
	// closed without a transcript); nil discards it.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HTTP is the transport policy of the Apps and Manager APIs.
	HTTP httpclient.Options
}

// Client is one CCAI Platform tenant. It is safe for concurrent use.
type Client struct {
	hc             *httpclient.Client
	base, manager  string
	authHeader     string
	secretForms    []string
	dir            string
	secrets        [][]byte
	pollAfter      time.Duration
	transcriptWait time.Duration
	maxTranscript  int64
	now            func() time.Time
	log            *slog.Logger

	mu     sync.RWMutex
	cache  source.Cache
	events source.EventStore
	// live is set once a receiver serves the tenant's events: chats that
	// get events are then polled only after PollAfter without one.
	live atomic.Bool
	// agents are the agent emails looked up in this process.
	agents sync.Map
	// unknown are the states already logged as unknown.
	unknown sync.Map
}

// New returns a Client for o. The error never contains the token.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(o.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("ccai: base URL %q is not an http(s) URL without user info or query", o.BaseURL)
	}
	sub, tok := strings.TrimSpace(o.Subdomain), strings.TrimSpace(o.Token)
	if sub == "" || tok == "" || strings.ContainsAny(sub, ":\r\n") || strings.ContainsAny(tok, "\r\n") {
		return nil, errors.New("ccai: subdomain and token are required, without line breaks (and no ':' in the subdomain)")
	}
	if strings.TrimSpace(o.TranscriptsDir) == "" {
		return nil, errors.New("ccai: transcripts directory is required")
	}
	if len(o.EventsSecrets) > 2 {
		return nil, errors.New("ccai: at most two events secrets (the primary and one while rotating)")
	}
	hc, err := httpclient.New(o.HTTP)
	if err != nil {
		return nil, fmt.Errorf("ccai: %w", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(sub + ":" + tok))
	c := &Client{
		hc:             hc,
		base:           strings.TrimRight(u.String(), "/"),
		manager:        managerRoot(u),
		authHeader:     "Basic " + basic,
		secretForms:    []string{tok, basic, url.QueryEscape(tok)},
		dir:            o.TranscriptsDir,
		pollAfter:      cmp.Or(o.PollAfter, DefaultPollAfter),
		transcriptWait: cmp.Or(o.TranscriptWait, DefaultTranscriptWait),
		maxTranscript:  cmp.Or(o.MaxTranscriptBytes, DefaultMaxTranscriptBytes),
		now:            o.Now,
		log:            cmp.Or(o.Logger, slog.New(slog.DiscardHandler)),
		events:         &source.MemoryEvents{},
		cache:          &source.MemoryCache{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, s := range o.EventsSecrets {
		if s = strings.TrimSpace(s); s != "" {
			c.secrets = append(c.secrets, []byte(s))
			c.secretForms = append(c.secretForms, s)
		}
	}
	if o.Cache != nil {
		c.SetCache(o.Cache)
	}
	return c, nil
}

// SetCache makes c keep its Apps API answers and agent emails in cache,
// and its events too when cache is a source.EventStore (the state file).
// Call it before c is first used.
func (c *Client) SetCache(cache source.Cache) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cache = cache
	if es, ok := cache.(source.EventStore); ok {
		c.events = es
	}
}

func (c *Client) stores() (source.Cache, source.EventStore) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cache, c.events
}

// get sends an authorised GET to url and returns the body of a 2xx answer.
// notFound, when set, is the error a 404 means.
func (c *Client) get(ctx context.Context, endpoint, url string, notFound error) ([]byte, error) {
	resp, err := c.hc.Do(ctx, httpclient.Request{
		Method:   http.MethodGet,
		URL:      url,
		Endpoint: endpoint,
		Header:   http.Header{"Authorization": {c.authHeader}, "Accept": {"application/json"}},
	})
	if err != nil {
		return nil, c.redact(source.FromTransport(err))
	}
	switch {
	case resp.StatusCode/100 == 2:
		return resp.Body, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: CCAI Platform answered %d; check chat.subdomain and chat.token", source.ErrUnauthorized, resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound && notFound != nil:
		return nil, notFound
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return nil, fmt.Errorf("%w: CCAI Platform answered %d", source.ErrUnavailable, resp.StatusCode)
	}
	return nil, source.Invalidf("CCAI Platform answered %d to %s", resp.StatusCode, endpoint)
}

// redact rewrites an error whose text holds a form of the credentials.
func (c *Client) redact(err error) error {
	msg := err.Error()
	hit := false
	for _, s := range c.secretForms {
		if s != "" && strings.Contains(msg, s) {
			msg, hit = strings.ReplaceAll(msg, s, "[REDACTED]"), true
		}
	}
	if !hit {
		return err
	}
	kind := source.ErrUnavailable
	for _, k := range []error{source.ErrInvalid, source.ErrUnauthorized, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	return source.Redacted(msg, kind)
}

// Check asks the Apps API for a chat that cannot exist: 404 proves the
// host answers and the credentials are accepted.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.get(ctx, "chat", c.base+"/chats/0", errCheckNotFound)
	if errors.Is(err, errCheckNotFound) {
		return nil
	}
	return err
}

var errCheckNotFound = errors.New("no chat 0")

// The adapter's promises, checked by the compiler.
var (
	_ source.Source       = (*Client)(nil)
	_ source.Receiver     = (*Client)(nil)
	_ source.ChangeLister = (*Client)(nil)
)

// managerRoot is the Manager API's root on the Apps API's host: the base
// URL with /apps/api/v1 replaced by /manager/api/v1.
func managerRoot(u *url.URL) string {
	base := strings.TrimRight(u.String(), "/")
	if root, ok := strings.CutSuffix(base, "/apps/api/v1"); ok {
		return root + "/manager/api/v1"
	}
	return u.Scheme + "://" + u.Host + "/manager/api/v1"
}
