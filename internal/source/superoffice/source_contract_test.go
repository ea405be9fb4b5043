package superoffice_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/sourcetest"
	"github.com/syncworker/syncworker/internal/source/superoffice"
)

// TestSourceContract runs the contract every adapter must pass against the
// SuperOffice adapter and the sandbox's SuperOffice fake.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) sourcetest.Backend {
		sb := sandbox.New(sandbox.Options{Platform: sandbox.PlatformSuperOffice, ChatToken: "contract-token"})
		var repeat atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if repeat.Load() && strings.HasSuffix(r.URL.Path, "/Messages") {
				// A WebAPI that repeats itself: every message twice.
				rec := httptest.NewRecorder()
				sb.ServeHTTP(rec, r)
				body := bytes.TrimSuffix(bytes.TrimSpace(rec.Body.Bytes()), []byte("]"))
				w.Header().Set("Content-Type", "application/json")
				w.Write(append(append(body, ','), bytes.TrimPrefix(bytes.TrimSpace(rec.Body.Bytes()), []byte("["))...))
				return
			}
			sb.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		c := newClient(t, srv.URL, nil)
		return sourcetest.Backend{
			Source: c,
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
			ID: sb.PlatformSessionID,
			Normalize: func(s aggregate.Session) aggregate.Session {
				_, msgs, _ := sb.Session(s.ID)
				e, _ := sb.Express(s, msgs)
				e.ID = sb.PlatformSessionID(s.ID)
				return e
			},
			Carried: carried,
		}
	})
}

// carried is what SuperOffice carries of messages: no message, sender or
// live chat ids, no sender emails, and no transfer notices of its own.
func carried(msgs []aggregate.Message) []aggregate.Message {
	var out []aggregate.Message
	for _, m := range msgs {
		if m.Sender.Type == aggregate.SenderSystem {
			continue
		}
		m.ID, m.LiveChatID, m.Sender.ID, m.Sender.Email = "", "", "", ""
		out = append(out, m)
	}
	return out
}

// newClient is an adapter for the fake at url (scheme://host), with short
// transport waits; cache nil is a fresh memory cache.
func newClient(t *testing.T, url string, cache source.Cache, opts ...func(*superoffice.Options)) *superoffice.Client {
	t.Helper()
	o := superoffice.Options{BaseURL: url + sandbox.SuperOfficePrefix, Token: "contract-token",
		AuthScheme: superoffice.SchemeSOTicket, AppToken: sandbox.SuperOfficeAppToken, ReopenGrace: 30 * time.Minute,
		Cache: cache, HTTP: httpclient.Options{Retries: 1, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}}
	for _, f := range opts {
		f(&o)
	}
	c, err := superoffice.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
