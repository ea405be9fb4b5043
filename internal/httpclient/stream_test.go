package httpclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// trickle serves n chunks of chunk, pausing between them.
func trickle(t *testing.T, n int, chunk string, pause time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := range n {
			if i > 0 {
				select {
				case <-time.After(pause):
				case <-r.Context().Done():
					return
				}
			}
			io.WriteString(w, chunk)
			http.NewResponseController(w).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClient_Stream(t *testing.T) {
	t.Parallel()
	get := func(srv *httptest.Server) Request { return Request{Method: "GET", URL: srv.URL} }
	readAll := func(got *string) func(io.Reader) error {
		return func(r io.Reader) error {
			b, err := io.ReadAll(r)
			*got = string(b)
			return err
		}
	}

	t.Run("LongerThanTimeoutWhileItFlows", func(t *testing.T) {
		t.Parallel()
		srv := trickle(t, 8, "x", 40*time.Millisecond)
		var got string
		resp, err := fastClient(t, Options{Timeout: 150 * time.Millisecond}).Stream(context.Background(), get(srv), readAll(&got))
		if err != nil || resp.StatusCode != 200 || got != strings.Repeat("x", 8) {
			t.Fatalf("resp %+v, err %v, body %q", resp, err, got)
		}
	})
	t.Run("Stalls", func(t *testing.T) {
		t.Parallel()
		srv := trickle(t, 2, "x", 2*time.Second)
		var got string
		start := time.Now()
		_, err := fastClient(t, Options{Timeout: 100 * time.Millisecond}).Stream(context.Background(), get(srv), readAll(&got))
		if !errors.Is(err, ErrStalled) || got != "x" || time.Since(start) > time.Second {
			t.Fatalf("err %v after %s with %q, want ErrStalled after the first chunk", err, time.Since(start), got)
		}
	})
	t.Run("ReaderTakingItsTimeIsNoStall", func(t *testing.T) {
		t.Parallel()
		srv := trickle(t, 3, strings.Repeat("y", 100), 0)
		n := 0
		_, err := fastClient(t, Options{Timeout: 50 * time.Millisecond}).Stream(context.Background(), get(srv), func(r io.Reader) error {
			buf := make([]byte, 10)
			for {
				m, err := r.Read(buf)
				n += m
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				time.Sleep(5 * time.Millisecond) // 30 reads: 150 ms in all
			}
		})
		if err != nil || n != 300 {
			t.Fatalf("err %v after %d bytes", err, n)
		}
	})
	t.Run("NoSizeCap", func(t *testing.T) {
		t.Parallel()
		srv := trickle(t, 4, strings.Repeat("z", 1000), 0)
		var got string
		_, err := fastClient(t, Options{MaxBodyBytes: 100}).Stream(context.Background(), get(srv), readAll(&got))
		if err != nil || len(got) != 4000 {
			t.Fatalf("err %v, %d bytes", err, len(got))
		}
	})
	t.Run("RetriedBeforeTheBody", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, reply{status: 503, body: `{"error":"busy"}`}, reply{status: 200, body: `[1]`})
		var got string
		calls := 0
		resp, err := fastClient(t, Options{}).Stream(context.Background(), get(srv.Server), func(r io.Reader) error {
			calls++
			return readAll(&got)(r)
		})
		if err != nil || resp.StatusCode != 200 || got != "[1]" || calls != 1 || srv.hits.Load() != 2 || resp.Attempts != 2 {
			t.Fatalf("resp %+v, err %v, body %q, %d calls, %d hits", resp, err, got, calls, srv.hits.Load())
		}
	})
	t.Run("NotRetriedOnceRead", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, reply{status: 200, body: `[1,2`})
		stop := errors.New("stop")
		_, err := fastClient(t, Options{}).Stream(context.Background(), get(srv.Server), func(io.Reader) error { return stop })
		if err != stop || srv.hits.Load() != 1 {
			t.Fatalf("err %v after %d hits, want the reader's error after 1", err, srv.hits.Load())
		}
	})
	t.Run("OtherStatusIsAResponse", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, reply{status: 404, body: `{"message":"nope"}`})
		called := false
		resp, err := fastClient(t, Options{}).Stream(context.Background(), get(srv.Server), func(io.Reader) error { called = true; return nil })
		if err != nil || resp.StatusCode != 404 || string(resp.Body) != `{"message":"nope"}` || called {
			t.Fatalf("resp %+v, err %v, read called %v", resp, err, called)
		}
	})
	t.Run("HeaderTimeout", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		start := time.Now()
		_, err := fastClient(t, Options{Timeout: 100 * time.Millisecond, Retries: 1}).Stream(context.Background(), get(srv), func(io.Reader) error { return nil })
		if err == nil || hits.Load() != 2 || time.Since(start) > time.Second {
			t.Fatalf("err %v after %s and %d attempts, want a timeout after 2", err, time.Since(start), hits.Load())
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		srv := trickle(t, 2, "x", 2*time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := fastClient(t, Options{}).Stream(ctx, get(srv), func(r io.Reader) error {
			cancel()
			_, err := io.ReadAll(r)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	})
}
