package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestFaults_Kinds(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantStatus []int
		check      func(t *testing.T, r response)
	}{
		{"server errors", Fault{ServerErrorShare: 1}, []int{500, 502, 503}, func(t *testing.T, r response) {
			var body struct{ Error string }
			r.decode(t, &body)
			if body.Error == "" {
				t.Errorf("body %s", r.body)
			}
		}},
		{"rate limit", Fault{RateLimitShare: 1, RetryAfter: 3}, []int{429}, func(t *testing.T, r response) {
			if got := r.header.Get("Retry-After"); got != "3" {
				t.Errorf("Retry-After %q", got)
			}
		}},
		{"rate limit default Retry-After", Fault{RateLimitShare: 1}, []int{429}, func(t *testing.T, r response) {
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q", got)
			}
		}},
		{"none", Fault{}, []int{200}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Faults: Faults{Chat: tt.fault}})
			for range 10 {
				r := f.chat("/sessions")
				if !slices.Contains(tt.wantStatus, r.status) {
					t.Fatalf("status %d, want one of %v", r.status, tt.wantStatus)
				}
				if tt.check != nil {
					tt.check(t, r)
				}
			}
			// The ESM is untouched by chat faults.
			if r := f.esm("GET", "/dc/chat_session", f.login(), nil); r.status != 200 {
				t.Errorf("ESM status %d", r.status)
			}
		})
	}
}

func TestFaults_FailedRequestsAreNotHandled(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login()
	f.SetFaults(Faults{ESM: Fault{ServerErrorShare: 0.5, RateLimitShare: 0.5, Routes: []string{RouteCreateCard}}})
	body := map[string]any{"folderCode": "chat_sessions", "data": map[string]any{}}
	for range 10 {
		if r := f.esm("POST", "/dc/chat_session/data", tok, body); r.status < 429 {
			t.Fatalf("status %d", r.status)
		}
	}
	if n := len(f.SessionCards()); n != 0 {
		t.Errorf("%d cards created by failed requests", n)
	}
	if r := f.esm("GET", "/dc/chat_session", tok, nil); r.status != 200 {
		t.Errorf("route outside Routes: status %d", r.status)
	}
}

func TestFaults_BrokenBodies(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{Chat: Fault{MalformedShare: 1}, Seed: 3}})
	addSessions(t, f.Server, 20)
	kinds := map[string]int{}
	for range 20 {
		req, _ := http.NewRequest("GET", f.ts.URL+ChatPrefix+"/sessions", nil)
		req.Header.Set("Authorization", "Bearer "+DefaultChatToken)
		resp, err := f.ts.Client().Do(req)
		if err != nil {
			kinds["transport"]++
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v any
		switch {
		case resp.StatusCode != 200:
			t.Fatalf("status %d", resp.StatusCode)
		case errors.Is(err, io.ErrUnexpectedEOF):
			kinds["truncated"]++
		case err == nil && json.Unmarshal(b, &v) != nil:
			kinds["malformed"]++
		default:
			t.Fatalf("body read fine: err %v, %s", err, b)
		}
	}
	if kinds["truncated"] == 0 || kinds["malformed"] == 0 {
		t.Errorf("kinds %v, want both", kinds)
	}
	log := f.Requests()
	if len(log) != 20 || (log[0].Fault != FaultMalformed && log[0].Fault != FaultTruncated) {
		t.Errorf("log %+v", log)
	}
}

func TestFaults_Deterministic(t *testing.T) {
	f := newFixture(t, Options{})
	run := func(seed uint64) []int {
		fs := Everywhere(Fault{ServerErrorShare: 0.3, RateLimitShare: 0.3})
		fs.Seed = seed
		f.SetFaults(fs)
		var out []int
		for range 40 {
			out = append(out, f.chat("/sessions").status)
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds, same faults: %v", a)
	}
	if !slices.Contains(a, 200) || !slices.Contains(a, 429) {
		t.Errorf("shares not mixed: %v", a)
	}
}

func TestFaults_LatencyRespectsContext(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{Chat: Fault{Latency: 150 * time.Millisecond}}})
	start := time.Now()
	if r := f.chat("/sessions"); r.status != 200 || time.Since(start) < 150*time.Millisecond {
		t.Errorf("status %d after %v", r.status, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+ChatPrefix+"/sessions", nil)
	start = time.Now()
	if _, err := f.ts.Client().Do(req); err == nil {
		t.Fatal("request outlived its context")
	}
	deadline := time.Now().Add(time.Second)
	for len(f.Requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	log := f.Requests()
	if len(log) != 2 || log[1].Status != 0 || log[1].Duration >= 150*time.Millisecond {
		t.Errorf("abandoned request logged as %+v", log)
	}
}

func TestStats(t *testing.T) {
	f := newFixture(t, Options{})
	must[string](t)(f.CreateChatSessionCard("ws-1"))
	f.chat("/sessions")
	f.chat("/sessions/x")
	f.chat("/sessions/x/messages")
	tok := f.login()
	f.esm("GET", "/dc/chat_session/data", tok, nil)
	f.esm("PATCH", "/dc/chat_session/data/1", tok, map[string]any{"data": map[string]any{}})
	want := map[string]int{
		RouteListSessions: 1, RouteGetSession: 1, RouteListMessages: 1,
		RouteLogin: 1, RouteListCards: 1, RoutePatchCard: 1,
	}
	got := f.Counts()
	if len(got) != len(want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v || f.Count(k) != v {
			t.Errorf("count %s = %d, want %d", k, got[k], v)
		}
	}
	log := f.Requests()
	if len(log) != 6 {
		t.Fatalf("log %+v", log)
	}
	if r := log[1]; r.API != APIChat || r.Method != "GET" || r.Route != RouteGetSession || r.Status != 404 || r.Path != ChatPrefix+"/sessions/x" || r.Start.IsZero() {
		t.Errorf("entry %+v", r)
	}
	if r := log[5]; r.API != APIESM || r.Route != RoutePatchCard || r.Status != 200 {
		t.Errorf("entry %+v", r)
	}
	f.ResetStats()
	if len(f.Counts()) != 0 || len(f.Requests()) != 0 {
		t.Error("ResetStats left data")
	}
}

func TestStats_LogIsBounded(t *testing.T) {
	f := newFixture(t, Options{RequestLogSize: 3})
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		f.chat("/sessions/" + id)
	}
	var paths []string
	for _, r := range f.Requests() {
		paths = append(paths, r.Path)
	}
	want := []string{ChatPrefix + "/sessions/c", ChatPrefix + "/sessions/d", ChatPrefix + "/sessions/e"}
	if !slices.Equal(paths, want) || f.Count(RouteGetSession) != 5 {
		t.Errorf("log %v, count %d", paths, f.Count(RouteGetSession))
	}
}
