package esm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/esmspec"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// clock is a settable time source shared by a client and the sandbox.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// getCard creates a chat-session card in sb and reads it through c.
func getCard(c *Client, sb *sandbox.Server) error {
	id, err := sb.CreateCard("chat_session", "", nil)
	if err != nil {
		return err
	}
	_, err = c.GetCard(context.Background(), "chat_session", id)
	return err
}

func TestClient_Login(t *testing.T) {
	t.Parallel()
	t.Run("TokenReused", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		c := newTestClient(t, baseURL)
		for range 3 {
			if err := getCard(c, sb); err != nil {
				t.Fatal(err)
			}
		}
		if n := sb.Count(sandbox.RouteLogin); n != 1 {
			t.Errorf("logins = %d, want 1", n)
		}
	})
	t.Run("ConcurrentCallersShareOneLogin", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		// The login is slow, to let every caller queue up.
		sb.FailNext(sandbox.RouteLogin, 1, sandbox.Failure{Delay: 50 * time.Millisecond})
		c := newTestClient(t, baseURL)
		id, err := sb.CreateCard("chat_session", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := c.GetCard(context.Background(), "chat_session", id); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := sb.Count(sandbox.RouteLogin); n != 1 {
			t.Errorf("logins = %d, want 1", n)
		}
	})
	t.Run("TokenOnlyInHeader", func(t *testing.T) {
		t.Parallel()
		tok := makeJWT(time.Now().Add(time.Hour), 1)
		mux := http.NewServeMux()
		mux.HandleFunc("POST /v1/users/login", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Authorization", "Bearer "+tok)
			writeRaw(w, http.StatusOK, `{"code":200,"message":"OK"}`)
		})
		mux.HandleFunc("GET /v1/dc/t/data/1", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+tok {
				apiException(w, http.StatusUnauthorized, "User is unauthorized")
				return
			}
			writeRaw(w, http.StatusOK, `{"dataCardId":"1","data":{}}`)
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		if _, err := newTestClient(t, srv.URL+"/v1").GetCard(context.Background(), "t", "1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("WaiterCancelled", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		// The login answers long after the caller gives up.
		const slowLogin = time.Second
		sb.FailNext(sandbox.RouteLogin, 1, sandbox.Failure{Delay: slowLogin})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := newTestClient(t, baseURL).GetCard(ctx, "chat_session", "1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the caller's deadline", err)
		}
		if d := time.Since(start); d > slowLogin/2 {
			t.Errorf("caller gave up after %v, want at its deadline, not after the login", d)
		}
	})
}

// TestClient_Login_TokenStyles logs in to the sandbox in each of the shapes
// a login answer carries its token in.
func TestClient_Login_TokenStyles(t *testing.T) {
	t.Parallel()
	for _, style := range []sandbox.LoginTokenStyle{sandbox.TokenBearer, sandbox.TokenBare, sandbox.TokenHeaderOnly} {
		t.Run(fmt.Sprint(style), func(t *testing.T) {
			t.Parallel()
			sb, base := newSandbox(t, sandbox.Options{LoginToken: style})
			if _, err := newTestClient(t, base).Template(context.Background(), "chat_session"); err != nil {
				t.Fatal(err)
			}
			if n := sb.Count(sandbox.RouteLogin); n != 1 {
				t.Errorf("logins = %d, want 1", n)
			}
		})
	}
}

func TestClient_Login_Refresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ttl        time.Duration
		advance    time.Duration
		wantLogins int
	}{
		{"WellBeforeExp", 10 * time.Minute, 8 * time.Minute, 1},
		{"WithinRefreshBefore", 10 * time.Minute, 9*time.Minute + 30*time.Second, 2},
		{"AfterExp", 10 * time.Minute, 11 * time.Minute, 2},
		{"ShortTokenHalfway", time.Minute, 25 * time.Second, 1},
		{"ShortTokenPastHalf", time.Minute, 35 * time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)}
			sb, baseURL := newSandbox(t, sandbox.Options{Now: clk.Now, TokenTTL: tt.ttl})
			c := newTestClient(t, baseURL, func(o *Options) { o.Now = clk.Now })
			if err := getCard(c, sb); err != nil {
				t.Fatal(err)
			}
			clk.Add(tt.advance)
			if err := getCard(c, sb); err != nil {
				t.Fatal(err)
			}
			if n := sb.Count(sandbox.RouteLogin); n != tt.wantLogins {
				t.Errorf("logins = %d, want %d", n, tt.wantLogins)
			}
		})
	}
}

func TestClient_Login_After401(t *testing.T) {
	t.Parallel()
	t.Run("ReloginOnceThenSuccess", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		c := newTestClient(t, baseURL)
		if err := getCard(c, sb); err != nil {
			t.Fatal(err)
		}
		sb.ExpireTokens()
		if err := getCard(c, sb); err != nil {
			t.Fatal(err)
		}
		if n := sb.Count(sandbox.RouteLogin); n != 2 {
			t.Errorf("logins = %d, want 2", n)
		}
	})
	t.Run("Second401Surfaces", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		sb.FailNext(sandbox.RouteGetCard, 5, sandbox.Failure{Status: http.StatusUnauthorized, Message: "User is unauthorized"})
		_, err := newTestClient(t, baseURL).GetCard(context.Background(), "chat_session", "1")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
			t.Fatalf("err = %v, want an APIError 401", err)
		}
		if n := sb.Count(sandbox.RouteLogin); n != 2 {
			t.Errorf("logins = %d, want 2 (one more after the first 401)", n)
		}
		noSecrets(t, err)
	})
	t.Run("LoginRefused", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		c := newTestClient(t, baseURL, func(o *Options) { o.Password = testPassword + "-wrong" })
		_, err := c.GetCard(context.Background(), "chat_session", "1")
		if !errors.Is(err, ErrLoginRefused) {
			t.Fatalf("err = %v, want ErrLoginRefused", err)
		}
		// The one format of an error answer: <operation>: <status>: <message>.
		if !strings.Contains(err.Error(), ": 401 Unauthorized: login refused") {
			t.Errorf("err = %v, want the status before the refusal", err)
		}
		if n := sb.Count(sandbox.RouteLogin); n != 1 {
			t.Errorf("logins = %d, want 1 (a refusal is not retried)", n)
		}
		noSecrets(t, err)
	})
	t.Run("LoginRetriedOn503", func(t *testing.T) {
		t.Parallel()
		sb, baseURL := newSandbox(t, sandbox.Options{})
		sb.FailNext(sandbox.RouteLogin, 1, sandbox.Failure{Status: http.StatusServiceUnavailable})
		if err := getCard(newTestClient(t, baseURL), sb); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClient_SecretsAbsent drives every failure path with a server that
// echoes what it was sent, and checks no error shows the password or token.
// The sandbox answers what a case does not answer itself.
func TestClient_SecretsAbsent(t *testing.T) {
	t.Parallel()
	const (
		login = "POST " + sandbox.ESMPrefix + "/users/login"
		patch = "PATCH " + sandbox.ESMPrefix + "/dc/chat_session/data/7"
	)
	echo := func(w http.ResponseWriter, r *http.Request) {
		apiException(w, http.StatusBadRequest, "rejected "+r.Header.Get("Authorization")+" for "+testPassword)
	}
	echoWrite := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"errors": []map[string]string{
			{"attributeCode": "chat_log", "message": "token " + r.Header.Get("Authorization")}}}})
	}
	echo429 := func(w http.ResponseWriter, r *http.Request) {
		apiException(w, http.StatusTooManyRequests, "slow down "+r.Header.Get("Authorization"))
	}
	tests := []struct {
		name    string
		pattern string // the route the case answers itself, if any
		handler http.HandlerFunc
		fail    sandbox.Failure // of the sandbox's PATCH
		pw      string
	}{
		{name: "LoginRefused", pw: testPassword + "x"},
		{name: "LoginEchoes", pattern: login, handler: echo, pw: testPassword},
		{name: "ResponseEchoes", pattern: patch, handler: echo, pw: testPassword},
		{name: "WriteErrorEchoes", pattern: patch, handler: echoWrite, pw: testPassword},
		{name: "RateLimitEchoes", pattern: patch, handler: echo429, pw: testPassword},
		{name: "ConnectionDropped", fail: sandbox.Failure{Handled: true, Drop: true}, pw: testPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.Options{Login: testLogin, Password: testPassword})
			sb.FailNext(sandbox.RoutePatchCard, 9, tt.fail)
			mux := http.NewServeMux()
			mux.Handle("/", esmspec.Wrap(t, sb))
			if tt.pattern != "" {
				mux.HandleFunc(tt.pattern, tt.handler)
			}
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL+sandbox.ESMPrefix, func(o *Options) { o.Password = tt.pw })
			err := c.PatchCard(context.Background(), "chat_session", "7", map[string][]Value{"chat_log": {String("x")}})
			if err == nil {
				t.Fatal("want an error")
			}
			noSecrets(t, err)
			if s := fmt.Sprintf("%v %+v %#v", c, c, err); strings.Contains(s, testPassword) {
				t.Errorf("formatted client or error shows the password: %s", s)
			}
		})
	}
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	padded := base64.URLEncoding.EncodeToString([]byte(`{"exp":1714557480}`))
	tests := []struct {
		name   string
		token  string
		want   int64
		wantOK bool
	}{
		{"Valid", "h." + enc(`{"sub":"u","exp":1714557480}`) + ".s", 1714557480, true},
		{"Padded", "h." + padded + ".s", 1714557480, true},
		{"FloatExp", "h." + enc(`{"exp":1714557480.5}`) + ".s", 1714557480, true},
		{"NoExp", "h." + enc(`{"sub":"u"}`) + ".s", 0, false},
		{"StringExp", "h." + enc(`{"exp":"soon"}`) + ".s", 0, false},
		{"NotAJWT", "opaque-token", 0, false},
		{"BadBase64", "h.!!!.s", 0, false},
		{"BadJSON", "h." + enc(`{exp`) + ".s", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := jwtExpiry(tt.token)
			if ok != tt.wantOK || (ok && got.Unix() != tt.want) {
				t.Errorf("jwtExpiry = %v, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestClient_Login_NoExpiry: a token without exp is kept until a 401.
func TestClient_Login_NoExpiry(t *testing.T) {
	t.Parallel()
	var logins, calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/users/login", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, fmt.Sprintf(`{"token":"Bearer opaque-%d"}`, logins.Add(1)))
	})
	mux.HandleFunc("GET /v1/dc/t/data/1", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 3 { // the server forgets the first token
			apiException(w, http.StatusUnauthorized, "expired")
			return
		}
		writeRaw(w, http.StatusOK, `{"dataCardId":"1"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/v1")
	for range 4 {
		if _, err := c.GetCard(context.Background(), "t", "1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := logins.Load(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		o       Options
		wantErr bool
	}{
		{"OK", Options{BaseURL: "https://acme.efectecloud.com/rest-api/itsm/v1/", Login: "u", Password: "p"}, false},
		{"NoScheme", Options{BaseURL: "acme.efectecloud.com/rest-api/itsm/v1", Login: "u", Password: "p"}, true},
		{"UserInfo", Options{BaseURL: "https://u:" + testPassword + "@acme.example/v1", Login: "u", Password: "p"}, true},
		{"Query", Options{BaseURL: "https://acme.example/v1?x=1", Login: "u", Password: "p"}, true},
		{"NoPassword", Options{BaseURL: "https://acme.example/v1", Login: "u"}, true},
		{"NoLogin", Options{BaseURL: "https://acme.example/v1", Password: "p"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New = %v, %v; want error %v", c, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q shows the password", err)
			}
			if err == nil && c.base != "https://acme.efectecloud.com/rest-api/itsm/v1" {
				t.Errorf("base = %s", c.base)
			}
		})
	}
}
