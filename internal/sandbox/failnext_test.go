package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	createBody := map[string]any{"folderCode": "chat_sessions", "data": map[string]any{}}
	tests := []struct {
		name       string
		f          Failure
		wantStatus int
		wantCards  int
		check      func(t *testing.T, r response)
	}{
		{"Status", Failure{Status: 503, RetryAfter: 7}, 503, 0, func(t *testing.T, r response) {
			var body esmError
			r.decode(t, &body)
			if body.Code != 503 || body.Message != "Service Unavailable" || r.header.Get("Retry-After") != "7" {
				t.Errorf("answer %s, Retry-After %q", r.body, r.header.Get("Retry-After"))
			}
		}},
		{"Message", Failure{Status: 400, Message: "Invalid JSON."}, 400, 0, func(t *testing.T, r response) {
			var body esmError
			r.decode(t, &body)
			if body.Message != "Invalid JSON." || r.header.Get("Retry-After") != "" {
				t.Errorf("answer %s", r.body)
			}
		}},
		{"HandledThenStatus", Failure{Handled: true, Status: 502}, 502, 1, nil},
		{"HandledAndDelayed", Failure{Handled: true, Delay: 20 * time.Millisecond}, 201, 1, func(t *testing.T, r response) {
			var body wireWriteResult
			r.decode(t, &body)
			if body.DataCard == nil || body.DataCard.DataCardID != "1" {
				t.Errorf("answer %s, want the created card", r.body)
			}
		}},
		{"Delayed", Failure{Delay: 20 * time.Millisecond}, 201, 1, nil},
		{"Broken", Failure{Broken: FaultMalformed}, 201, 1, func(t *testing.T, r response) {
			if json.Valid(r.body) || !strings.HasPrefix(string(r.body), `{"meta":`) || r.header.Get(FaultHeader) != FaultMalformed {
				t.Errorf("answer %q, %s %q; want the first half of the answer", r.body, FaultHeader, r.header.Get(FaultHeader))
			}
		}},
		{"Nothing", Failure{}, 201, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			tok := f.login()
			f.FailNext(RouteCreateCard, 1, tt.f)
			start := time.Now()
			r := f.esm("POST", "/dc/chat_session/data", tok, createBody)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if time.Since(start) < tt.f.Delay {
				t.Errorf("answered after %v, want at least %v", time.Since(start), tt.f.Delay)
			}
			if n := len(f.SessionCards()); n != tt.wantCards {
				t.Errorf("%d cards, want %d", n, tt.wantCards)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			if r := f.esm("POST", "/dc/chat_session/data", tok, createBody); r.status != 201 {
				t.Errorf("next request: status %d, want 201", r.status)
			}
			log := f.Requests()
			if f.Count(RouteCreateCard) != 2 || log[1].Status != tt.wantStatus {
				t.Errorf("count %d, log %+v", f.Count(RouteCreateCard), log)
			}
		})
	}
}

func TestFailNext_Order(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	tok := f.login()
	f.FailNext(RouteGetTemplate, 2, Failure{Status: 503})
	f.FailNext(RouteGetTemplate, 1, Failure{Status: 429})
	f.FailNext(RouteGetTemplate, 0, Failure{Status: 500})
	if r := f.esm("GET", "/dc/chat_session/data?limit=5", tok, nil); r.status != 200 {
		t.Errorf("other route: status %d", r.status)
	}
	var got []int
	for range 5 {
		got = append(got, f.esm("GET", "/dc/chat_session", tok, nil).status)
	}
	if want := []int{503, 503, 429, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestFailNext_Drop(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	tok := f.login()
	f.FailNext(RouteCreateCard, 1, Failure{Handled: true, Drop: true})
	req, _ := http.NewRequest("POST", f.ts.URL+ESMPrefix+"/dc/chat_session/data",
		strings.NewReader(`{"folderCode":"chat_sessions","data":{}}`))
	req.Header.Set("Authorization", tok)
	if resp, err := f.ts.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d), want the connection dropped", resp.StatusCode)
	}
	if n := len(f.SessionCards()); n != 1 {
		t.Errorf("%d cards, want the one created before the drop", n)
	}
	// The server logs a request once its handler returns, which may be
	// just after the client saw the connection drop.
	deadline := time.Now().Add(5 * time.Second)
	for len(f.Requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if log := f.Requests(); len(log) != 2 || log[1].Status != 0 {
		t.Errorf("log %+v, want the dropped request without a status", log)
	}
}

// A client that gives up during the delay of an unhandled request leaves
// no trace of it; one that gives up on a handled request does.
func TestFailNext_DelayEndsWithClient(t *testing.T) {
	t.Parallel()
	for _, handled := range []bool{false, true} {
		f := newFixture(t, Options{})
		tok := f.login()
		f.FailNext(RouteCreateCard, 1, Failure{Handled: handled, Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "POST", f.ts.URL+ESMPrefix+"/dc/chat_session/data",
			strings.NewReader(`{"folderCode":"chat_sessions","data":{}}`))
		req.Header.Set("Authorization", tok)
		if resp, err := f.ts.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("handled %v: request outlived its context", handled)
		}
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for len(f.Requests()) < 2 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if log := f.Requests(); len(log) != 2 || log[1].Status != 0 {
			t.Fatalf("handled %v: log %+v; want the request ended with its client, unanswered", handled, log)
		}
		want := 0
		if handled {
			want = 1
		}
		if n := len(f.SessionCards()); n != want {
			t.Errorf("handled %v: %d cards, want %d", handled, n, want)
		}
	}
}
