package genesys_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/genesys"
	"github.com/syncworker/syncworker/internal/source/sourcetest"
)

// contractBulkSize makes the suite's transcripts span several bulk
// requests.
const contractBulkSize = 3

// TestSourceContract runs the contract every adapter must pass against the
// adapter talking to the sandbox's Genesys Cloud fake.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) sourcetest.Backend {
		sb := sandbox.New(sandbox.Options{Platform: sandbox.PlatformGenesys, ChatToken: "contract-secret"})
		var repeat atomic.Bool
		var mu sync.Mutex
		firstBulk := map[string][]byte{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if repeat.Load() && strings.HasSuffix(r.URL.Path, "/messages/bulk") {
				// A platform stuck on its first page: every bulk request
				// answers the first one's ids.
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				if first, ok := firstBulk[r.URL.Path]; ok {
					body = first
				} else {
					firstBulk[r.URL.Path] = body
				}
				mu.Unlock()
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
			}
			sb.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		c := newClient(t, srv.URL, "contract-secret", func(o *genesys.Options) { o.BulkSize = contractBulkSize })
		return sourcetest.Backend{
			Source: &domainSource{c: c, sb: sb},
			Seed:   sb.AddSession,
			Append: sb.AppendMessages,
			SetFault: func(f sourcetest.Fault) {
				repeat.Store(f == sourcetest.RepeatedPage)
				var fault sandbox.Fault
				switch f {
				case sourcetest.Unavailable:
					fault.ServerErrorShare = 1
				case sourcetest.Garbled:
					fault.MalformedShare = 1
				}
				sb.SetFaults(sandbox.Faults{Chat: fault})
			},
			PageSize: contractBulkSize,
		}
	})
}

// newClient returns an adapter for the sandbox at base with fast retries.
func newClient(t *testing.T, base, secret string, opts ...func(*genesys.Options)) *genesys.Client {
	t.Helper()
	o := genesys.Options{
		BaseURL: base + sandbox.GenesysPrefix, LoginURL: base + sandbox.GenesysLoginPath,
		ClientID: sandbox.GenesysClientID, ClientSecret: secret,
		HTTP: httpclient.Options{Retries: 1, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond,
			MaxRetryAfter: 2 * time.Millisecond},
	}
	for _, fn := range opts {
		fn(&o)
	}
	c, err := genesys.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// domainSource speaks of sessions by the chat store's ids, as the contract
// suite does, and translates them to the ids the fake made up and back:
// conversation, live chat, message, user and contact ids. Everything else
// is the adapter's answer as it is.
type domainSource struct {
	c  *genesys.Client
	sb *sandbox.Server
}

func (d *domainSource) domain(id string) string {
	if dom, ok := d.sb.Genesys().DomainID(id); ok {
		return dom
	}
	return id
}

func (d *domainSource) Session(ctx context.Context, id string) (aggregate.Session, error) {
	conv := d.sb.PlatformSessionID(id)
	s, err := d.c.Session(ctx, conv)
	if err != nil {
		return s, d.err(err, conv, id)
	}
	s.ID = id
	s.Customer.ID = d.domain(s.Customer.ID)
	for i := range s.LiveChats {
		lc := &s.LiveChats[i]
		lc.ID = d.domain(lc.ID)
		for j := range lc.Agents {
			lc.Agents[j].ID = d.domain(lc.Agents[j].ID)
		}
	}
	return s, nil
}

func (d *domainSource) Messages(ctx context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	conv := d.sb.PlatformSessionID(id)
	msgs, next, err := d.c.Messages(ctx, conv, cursor)
	if err != nil {
		return nil, "", d.err(err, conv, id)
	}
	for i := range msgs {
		m := &msgs[i]
		m.ID, m.LiveChatID, m.Sender.ID = d.domain(m.ID), d.domain(m.LiveChatID), d.domain(m.Sender.ID)
	}
	return msgs, next, nil
}

func (d *domainSource) Check(ctx context.Context) error { return d.c.Check(ctx) }

// err names the session by its domain id, keeping the error's kind.
func (d *domainSource) err(err error, conv, id string) error {
	return &renamed{msg: strings.ReplaceAll(err.Error(), conv, id), err: err}
}

type renamed struct {
	msg string
	err error
}

func (r *renamed) Error() string { return r.msg }
func (r *renamed) Unwrap() error { return r.err }

var _ source.Source = (*domainSource)(nil)

func TestDomainSourceKeepsKinds(t *testing.T) {
	err := (&domainSource{}).err(source.ErrNotFound, "x", "y")
	if !errors.Is(err, source.ErrNotFound) {
		t.Error("kind lost")
	}
}
