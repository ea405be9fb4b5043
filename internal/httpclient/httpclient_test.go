package httpclient

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// server answers each request with the next of replies (the last repeats)
// and counts the requests it saw.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

type reply struct {
	status int
	header map[string]string
	body   string
}

func newServer(t *testing.T, replies ...reply) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1)) - 1
		rep := replies[min(n, len(replies)-1)]
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func fastClient(t *testing.T, o Options) *Client {
	t.Helper()
	if o.MinWait == 0 {
		o.MinWait, o.MaxWait = time.Millisecond, 5*time.Millisecond
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = 20 * time.Millisecond
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClient_Do(t *testing.T) {
	ok := reply{status: 200, body: `{"ok":true}`}
	tests := []struct {
		name         string
		method       string
		retry        bool
		replies      []reply
		wantStatus   int
		wantAttempts int
	}{
		{"success", "GET", false, []reply{ok}, 200, 1},
		{"503 then success", "GET", false, []reply{{status: 503}, ok}, 200, 2},
		{"502 and 504 retried", "GET", false, []reply{{status: 502}, {status: 504}, ok}, 200, 3},
		{"429 then success", "GET", false, []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, ok}, 200, 2},
		{"500 retried", "GET", false, []reply{{status: 500}, ok}, 200, 2},
		{"501 not retried", "GET", false, []reply{{status: 501}, ok}, 501, 1},
		{"404 not retried", "GET", false, []reply{{status: 404, body: `{"error":"no"}`}, ok}, 404, 1},
		{"401 not retried", "GET", false, []reply{{status: 401}, ok}, 401, 1},
		{"5xx surfaced after budget", "GET", false, []reply{{status: 503}}, 503, 3},
		{"POST not retried", "POST", false, []reply{{status: 503}, ok}, 503, 1},
		{"POST retried when safe", "POST", true, []reply{{status: 503}, ok}, 200, 2},
		{"truncated JSON retried", "GET", false, []reply{{status: 200, body: `{"ok":tr`}, ok}, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.replies...)
			c := fastClient(t, Options{Retries: 2})
			resp, err := c.Do(context.Background(), Request{Method: tt.method, URL: srv.URL, Retry: tt.retry})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if resp.Attempts != tt.wantAttempts || int(srv.hits.Load()) != tt.wantAttempts {
				t.Errorf("attempts = %d, server saw %d, want %d", resp.Attempts, srv.hits.Load(), tt.wantAttempts)
			}
		})
	}
}

func TestClient_RetryAfterIsCapped(t *testing.T) {
	srv := newServer(t, reply{status: 429, header: map[string]string{"Retry-After": "3600"}}, reply{status: 200, body: "{}"})
	c := fastClient(t, Options{Retries: 1, MaxRetryAfter: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, Request{Method: "GET", URL: srv.URL})
	if err != nil {
		t.Fatalf("Do: %v (a 3600 s Retry-After was not capped)", err)
	}
	if resp.StatusCode != 200 || resp.Attempts != 2 {
		t.Errorf("status %d after %d attempts, want 200 after 2", resp.StatusCode, resp.Attempts)
	}
}

func TestClient_BodyTooLarge(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 2000) + `"}`
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length: the cap must hold while reading
			}
			io.WriteString(w, big)
		}))
		c := fastClient(t, Options{MaxBodyBytes: 1000, Retries: 3})
		_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
		var tooLarge *BodyTooLargeError
		if !errors.As(err, &tooLarge) || tooLarge.Limit != 1000 {
			t.Errorf("chunked=%v: err = %v, want BodyTooLargeError{1000}", chunked, err)
		}
		srv.Close()
	}
}

func TestClient_ConnectionRefusedGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := fastClient(t, Options{Retries: 2})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: url + "/x?secret=1"})
	if err == nil || !strings.Contains(err.Error(), "3 attempt(s)") {
		t.Fatalf("err = %v, want a give-up after 3 attempts", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the query: %v", err)
	}
}

func TestClient_TimeoutPerAttempt(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := fastClient(t, Options{Timeout: 50 * time.Millisecond, Retries: -1})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	if err == nil {
		t.Fatal("a server that never answers did not time out")
	}
}

func TestClient_ContextCancelStopsRetries(t *testing.T) {
	srv := newServer(t, reply{status: 503})
	c := fastClient(t, Options{Retries: 100, MinWait: 50 * time.Millisecond, MaxWait: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Request{Method: "GET", URL: srv.URL})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if n := srv.hits.Load(); n > 5 {
		t.Errorf("server saw %d attempts after the context ended", n)
	}
}

func TestClient_RateCeilingCountsRetries(t *testing.T) {
	srv := newServer(t, reply{status: 503}, reply{status: 200, body: "{}"})
	c := fastClient(t, Options{MaxRPS: 50, Retries: 1})
	start := time.Now()
	for range 3 {
		if _, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	// 4 request starts (one retry) at under 50/s need at least 3 gaps of 20 ms.
	if got := srv.hits.Load(); got != 4 {
		t.Fatalf("server saw %d requests, want 4", got)
	}
	if elapsed := time.Since(start); elapsed < 60*time.Millisecond {
		t.Errorf("4 starts took %v, faster than the 50/s ceiling allows", elapsed)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Mon, 03 Jun 2024 09:00:30 GMT", 30 * time.Second, true},
		{"Mon, 03 Jun 2024 08:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(http.Header{"Retry-After": {tt.in}}, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestClient_HugeAnnouncedBody: a server announcing a 2 GB body is refused
// at once, without reading it or retrying.
func TestClient_HugeAnnouncedBody(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", "2147483648")
		w.WriteHeader(200)
		w.Write([]byte(`{"data":[`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := fastClient(t, Options{Retries: 3, Timeout: 10 * time.Second})
	start := time.Now()
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	var tooLarge *BodyTooLargeError
	if !errors.As(err, &tooLarge) || hits.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %d requests and %v; want BodyTooLargeError at once", err, hits.Load(), time.Since(start))
	}
}

// TestClient_TLS: verification is always on; a server signed by a CA that
// is not trusted is refused without retries, and trusted through CAFile.
func TestClient_TLS(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	untrusted := fastClient(t, Options{Retries: 3})
	if _, err := untrusted.Do(context.Background(), Request{Method: "GET", URL: srv.URL}); err == nil ||
		!strings.Contains(err.Error(), "certificate") || hits.Load() != 0 {
		t.Errorf("untrusted server: err = %v after %d handled requests; want a certificate error", err, hits.Load())
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	trusted := fastClient(t, Options{CAFile: caFile})
	if resp, err := trusted.Do(context.Background(), Request{Method: "GET", URL: srv.URL}); err != nil || resp.StatusCode != 200 {
		t.Errorf("with CAFile: %v, %v", resp, err)
	}
	if _, err := New(Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}
