package genesys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/genesys"
)

// clock is a time both the fake and the adapter read; tests move it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is the adapter talking to a Genesys fake over real HTTP.
type fixture struct {
	sb    *sandbox.Server
	fake  *sandbox.GenesysFake
	srv   *httptest.Server
	c     *genesys.Client
	clock *clock
}

const secret = "s3cr3t-client-secret"

func newFixture(t *testing.T, opts ...func(*genesys.Options)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock()}
	f.sb = sandbox.New(sandbox.Options{Platform: sandbox.PlatformGenesys, ChatToken: secret, Now: f.clock.Now})
	f.fake = f.sb.Genesys()
	f.srv = httptest.NewServer(f.sb)
	t.Cleanup(f.srv.Close)
	f.c = newClient(t, f.srv.URL, secret, append([]func(*genesys.Options){func(o *genesys.Options) { o.Now = f.clock.Now }}, opts...)...)
	return f
}

// seed adds a session with one agent and n messages, and returns its
// conversation id.
func (f *fixture) seed(t *testing.T, id string, n int) string {
	t.Helper()
	start := f.clock.Now().Add(-time.Hour)
	s := aggregate.Session{ID: id, Status: aggregate.StatusActive, StartedAt: start,
		Customer: aggregate.Customer{ID: "u-1", Name: "Maija Meikäläinen", Email: "maija@example.com"},
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: start.Add(time.Minute), ConnectedAt: start.Add(2 * time.Minute),
			Agents: []aggregate.Agent{{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: start.Add(2 * time.Minute)}}}}}
	if err := f.sb.AddSession(s, f.messages(start.Add(3*time.Minute), n)); err != nil {
		t.Fatal(err)
	}
	return f.sb.PlatformSessionID(id)
}

// messages are n messages from at on, a second apart, customer and agent
// in turn.
func (f *fixture) messages(at time.Time, n int) []aggregate.Message {
	out := make([]aggregate.Message, n)
	for i := range out {
		out[i] = aggregate.Message{SentAt: at.Add(time.Duration(i) * time.Second), Text: "hello",
			Sender: aggregate.Sender{Type: aggregate.SenderVisitor, ID: "u-1", Name: "Maija Meikäläinen"}}
		if i%2 == 1 {
			out[i].Sender = aggregate.Sender{Type: aggregate.SenderAgent, ID: "a-1", Name: "Ann Agent", Email: "ann@example.com"}
		}
	}
	return out
}

func TestToken_ReusedUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fake.SetTokenTTL(100 * time.Second)
	conv := f.seed(t, "ws-token", 2)
	ctx := context.Background()
	for range 5 {
		if _, err := f.c.Session(ctx, conv); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.fake.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens for 5 requests, want 1: the token is reused", n)
	}
	// The margin is a tenth of a 100 s lifetime: 89 s in, the token is
	// still good; 91 s in, it is renewed before the fake would refuse it.
	f.clock.Advance(89 * time.Second)
	if _, err := f.c.Session(ctx, conv); err != nil || f.fake.TokensIssued() != 1 {
		t.Fatalf("at 89 s: %v, %d tokens; want the first token reused", err, f.fake.TokensIssued())
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.c.Session(ctx, conv); err != nil || f.fake.TokensIssued() != 2 {
		t.Fatalf("at 91 s: %v, %d tokens; want one renewal", err, f.fake.TokensIssued())
	}
	if n := f.sb.Count(sandbox.RouteGenesysGetConversation); n != 7 {
		t.Errorf("%d conversation requests, want 7: no request was refused", n)
	}
}

func TestToken_RenewedOnceOn401(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.seed(t, "ws-revoked", 2)
	ctx := context.Background()
	if _, err := f.c.Session(ctx, conv); err != nil {
		t.Fatal(err)
	}
	f.fake.RevokeTokens()
	if _, err := f.c.Session(ctx, conv); err != nil {
		t.Fatalf("after the token was revoked: %v, want one renewal and success", err)
	}
	if n := f.fake.TokensIssued(); n != 2 {
		t.Errorf("%d tokens, want 2", n)
	}
}

func TestToken_401AfterRenewalIsFatal(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Platform: sandbox.PlatformGenesys, ChatToken: secret})
	var apiCalls, tokenCalls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/oauth/token") {
			tokenCalls++
			sb.ServeHTTP(w, r)
			return
		}
		apiCalls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Invalid login credentials.","code":"bad.credentials","status":401}`))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, secret)
	_, err := c.Session(context.Background(), "5b6f2a9e-0000-4000-8000-000000000001")
	if !errors.Is(err, source.ErrUnauthorized) {
		t.Fatalf("err = %v, want source.ErrUnauthorized", err)
	}
	if tokenCalls != 2 || apiCalls != 2 {
		t.Errorf("%d token and %d API requests, want 2 and 2: one renewal, then give up", tokenCalls, apiCalls)
	}
}

func TestToken_WrongSecretIsUnauthorized(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newClient(t, f.srv.URL, "not-the-secret")
	_, err := c.Session(context.Background(), f.seed(t, "ws-wrong", 1))
	if !errors.Is(err, source.ErrUnauthorized) {
		t.Fatalf("err = %v, want source.ErrUnauthorized", err)
	}
	if err := c.Check(context.Background()); !errors.Is(err, source.ErrUnauthorized) {
		t.Errorf("Check: %v, want source.ErrUnauthorized", err)
	}
}

func TestToken_BadResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"NoToken", 200, `{"token_type":"bearer","expires_in":60}`, source.ErrInvalid},
		{"NoLifetime", 200, `{"access_token":"abc","token_type":"bearer"}`, source.ErrInvalid},
		{"OtherType", 200, `{"access_token":"abc","token_type":"mac","expires_in":60}`, source.ErrInvalid},
		{"NotJSON", 200, `<html>`, source.ErrInvalid},
		{"Down", 503, `{}`, source.ErrUnavailable},
		{"BadRequest", 400, `{"error":"invalid_request"}`, source.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			_, err := newClient(t, srv.URL, secret).Session(context.Background(), "conv-1")
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSecretNeverLeaks points the adapter at servers that echo everything
// they get, the Basic credentials included, in error bodies, and checks
// that no form of the client secret, nor the access token, reaches an error
// or a log line.
func TestSecretNeverLeaks(t *testing.T) {
	t.Parallel()
	const accessToken = "the-access-token"
	basic := base64.StdEncoding.EncodeToString([]byte(sandbox.GenesysClientID + ":" + secret))
	echo := func(status int, loginOK bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			said := r.Header.Get("Authorization") + " " + secret + " " + basic
			w.Header().Set("Content-Type", "application/json")
			if strings.HasSuffix(r.URL.Path, "/oauth/token") {
				if loginOK {
					w.Write([]byte(`{"access_token":"` + accessToken + `","token_type":"bearer","expires_in":3600}`))
					return
				}
				w.WriteHeader(status)
				w.Write([]byte(`{"error":"invalid_client ` + said + `","error_description":"` + said + `"}`))
				return
			}
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(status)
			w.Write([]byte(`{"message":"` + said + `","code":"` + said + `","status":` + strconv.Itoa(status) + `}`))
		}
	}
	servers := map[string]http.HandlerFunc{
		"login-401": echo(401, false),
		"login-400": echo(400, false),
		"login-500": echo(500, false),
		"api-401":   echo(401, true),
		"api-500":   echo(500, true),
		"api-429":   echo(429, true),
		"api-404":   echo(404, true),
		"api-403":   echo(403, true),
	}
	for name, h := range servers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := newClient(t, srv.URL, secret, func(o *genesys.Options) {
				o.HTTP = httpclient.Options{Retries: 2, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond,
					MaxRetryAfter: time.Millisecond, Logger: logger}
			})
			ctx := context.Background()
			var errs []error
			_, err := c.Session(ctx, "conv-1")
			errs = append(errs, err)
			_, _, err = c.Messages(ctx, "conv-1", "")
			errs = append(errs, err, c.Check(ctx),
				c.ListSessions(ctx, time.Now().Add(-time.Hour), time.Time{}, func(source.Listed) error { return nil }))
			for _, err := range errs {
				if err == nil {
					t.Fatal("no error from a server that refuses everything")
				}
				for _, s := range []string{secret, basic, accessToken} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error holds the secret: %v", err)
					}
				}
			}
			for _, s := range []string{secret, basic, accessToken} {
				if strings.Contains(logs.String(), s) {
					t.Errorf("logs hold the secret:\n%s", logs.String())
				}
			}
		})
	}
}
