package httpclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type recorder struct {
	mu       sync.Mutex
	attempts []string
	waits    int
}

func (r *recorder) Attempt(endpoint string, code int, d time.Duration, retry bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kind := "first"
	if retry {
		kind = "retry"
	}
	r.attempts = append(r.attempts, endpoint+" "+http.StatusText(code)+" "+kind)
}

func (r *recorder) RateWait(time.Duration) {
	r.mu.Lock()
	r.waits++
	r.mu.Unlock()
}

func TestClient_ObserverSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	rec := &recorder{}
	c, err := New(Options{MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxRPS: 20, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Endpoint: "session"}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"session Service Unavailable first", "session OK retry", "session OK first", "session OK first"}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.attempts) != len(want) {
		t.Fatalf("attempts %q, want %q", rec.attempts, want)
	}
	for i := range want {
		if rec.attempts[i] != want[i] {
			t.Errorf("attempt %d = %q, want %q", i, rec.attempts[i], want[i])
		}
	}
	// 4 attempts at 19/s with a burst of one wait for the ceiling 3 times.
	if rec.waits < 2 {
		t.Errorf("%d rate waits seen, want the ceiling to show", rec.waits)
	}
}
