package engine_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// expectCards checks every active-at-start card against the aggregation of
// its session as the sandbox holds it.
func (h *harness) expectCards(ids []string) {
	h.t.Helper()
	for _, id := range ids {
		s, msgs, _ := h.sb.Session(id)
		want := aggregate.Aggregate(s, msgs, aggregate.Options{Now: h.now, Location: h.cfg.Location,
			MaxActiveAge: h.cfg.Sync.MaxActiveAge, ChatLogMaxChars: h.cfg.Sync.ChatLogMaxChars})
		checkCard(h.t, h, want)
	}
}

// TestPass_FlakyAPIsConverge: 1,000 sessions while 10% of all requests
// answer 5xx and 5% answer 429. Within three passes every card is right, no
// card is written twice, and no request is tried more often than its
// budget allows.
func TestPass_FlakyAPIsConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 sessions")
	}
	t.Parallel()
	h := newHarnessWith(t, "sync:\n  concurrency: 16\n", func(o *sandbox.Options) { o.RequestLogSize = 200000 })
	ids := h.generate(1000)
	h.sb.SetFaults(sandbox.Faults{Seed: 1,
		Chat: sandbox.Fault{ServerErrorShare: 0.10, RateLimitShare: 0.05, RetryAfter: 3600},
		ESM:  sandbox.Fault{ServerErrorShare: 0.10, RateLimitShare: 0.05, RetryAfter: 3600}})
	budget := 1 + httpclient.DefaultRetries
	// A closing write is two PATCHes: the values, then the inactive value
	// alone once ESM accepted them.
	patches := func(path string) int {
		c, ok := h.sb.Card(path[strings.LastIndexByte(path, '/')+1:])
		if ok && c.Text(h.cfg.ESM.Attributes.Active) == "No" {
			return 2
		}
		return 1
	}
	passes, writes := 0, map[string]int{}
	for passes < 3 {
		passes++
		s := h.pass()
		attempts := map[string]int{}
		for _, r := range h.sb.Requests() {
			key := r.Method + " " + r.Path
			attempts[key]++
			if r.Method == http.MethodPatch && r.Status == http.StatusOK {
				writes[r.Path]++
			}
		}
		for key, n := range attempts {
			// Discovery pages and person lookups share a path; sessions' own
			// requests and PATCHes are one logical request each per pass.
			if b := budget * patches(strings.TrimPrefix(key, "PATCH ")); !strings.HasSuffix(key, "/data") && n > b {
				t.Errorf("pass %d: %s tried %d times, budget %d", passes, key, n, b)
			}
		}
		t.Logf("pass %d: %s, %d requests", passes, s, len(h.sb.Requests()))
		h.sb.ResetStats()
		if s.Failed == 0 && s.Skipped == 0 {
			break
		}
		h.advance(engine.BackoffBase + time.Second)
	}
	h.sb.SetFaults(sandbox.Faults{})
	h.expectCards(ids)
	for path, n := range writes {
		if n > patches(path) {
			t.Errorf("%s written %d times with the same values", path, n)
		}
	}
	t.Logf("converged in %d passes", passes)
}

// TestPass_TokenExpiresDuringPass: ESM tokens live two seconds; a pass of
// several seconds completes, logging in again only as tokens run out.
func TestPass_TokenExpiresDuringPass(t *testing.T) {
	if testing.Short() {
		t.Skip("a pass of several seconds")
	}
	t.Parallel()
	h := newHarnessWith(t, "sync:\n  concurrency: 4\n", func(o *sandbox.Options) {
		o.TokenTTL = 2 * time.Second
		o.Now = time.Now // token expiry follows the wall clock
	})
	h.now = time.Now()
	ids := h.generate(150)
	h.sb.SetFaults(sandbox.Everywhere(sandbox.Fault{Latency: 30 * time.Millisecond}))
	start := time.Now()
	s := h.pass()
	took := time.Since(start)
	if s.Failed != 0 {
		t.Fatalf("pass with expiring tokens: %s", s)
	}
	logins := h.count(sandbox.RouteLogin)
	// A token of 2 s is renewed halfway through its life: about one login
	// a second, and never one per request.
	if max := int(took/time.Second) + 3; logins < 2 || logins > max {
		t.Errorf("%d logins in a pass of %v, want 2..%d", logins, took, max)
	}
	h.sb.SetFaults(sandbox.Faults{})
	h.expectCards(ids)
	t.Logf("pass of %v with %d logins (%s)", took.Round(time.Millisecond), logins, s)
}

// TestPass_StuckServerEndsAtDeadline: a chat platform that accepts
// connections and never answers, or trickles its body, ends each request
// at its timeout and the pass at its deadline; the pass reports.
func TestPass_StuckServerEndsAtDeadline(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"silent", "trickle"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if mode == "trickle" {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"id":`))
					for {
						select {
						case <-release:
							return
						case <-r.Context().Done():
							return
						case <-time.After(50 * time.Millisecond):
							w.Write([]byte(" "))
							w.(http.Flusher).Flush()
						}
					}
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer stuck.Close()
			defer close(release)
			h := newHarness(t, "sync:\n  pass_timeout: 3s\n")
			h.generate(20)
			h.cfg.Chat.BaseURL = stuck.URL + "/chat/api/v1"
			h.cfg.Chat.Timeout = 200 * time.Millisecond
			h.reopen()
			start := time.Now()
			s, err := h.eng.Pass(context.Background(), nil)
			took := time.Since(start)
			if err == nil {
				t.Fatalf("pass against a stuck server succeeded: %s", s)
			}
			var fe *engine.FatalError
			if !errors.As(err, &fe) || took > 6*time.Second {
				t.Errorf("pass ended after %v with %v; want a fatal error by its deadline", took, err)
			}
			if !strings.Contains(err.Error(), "an API looks unreachable: 10 sessions in a row got no answer") {
				t.Errorf("error %v: want it to say the API did not answer", err)
			}
			t.Logf("gave up after %v: %v", took.Round(time.Millisecond), err)
		})
	}
}

// TestPass_HostileTranscript: a message of 10 MB fails only its session,
// with an error naming it, and leaves its card as it was.
func TestPass_HostileTranscript(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-ok"), liveMessages("ws-ok"))
	bad := liveMessages("ws-huge")
	bad[1].Text = strings.Repeat("A", 10<<20)
	h.sb.AddCase(liveSession("ws-huge"), bad)
	s := h.pass()
	if s.Written != 1 || s.Failed != 1 {
		t.Fatalf("summary %s, want ws-ok written and ws-huge failed", s)
	}
	st, _, _ := h.store.Session(context.Background(), "ws-huge")
	if !strings.Contains(st.LastError, "ws-huge") || st.Failures != 1 {
		t.Errorf("ws-huge: failures %d, error %q; want one failure naming the session", st.Failures, st.LastError)
	}
	if c := h.card("ws-huge"); c.Has(h.cfg.ESM.Attributes.ChatLog) || c.Has(h.cfg.ESM.Attributes.MessageCount) {
		t.Error("ws-huge's card was written")
	}
}

// TestPass_GarbledListingEntryDoesNotStopPasses: the platform's listing
// garbles one entry's times; the pass goes on, and that session is fetched
// (its own data checks) and written.
func TestPass_GarbledListingEntryDoesNotStopPasses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	for _, id := range []string{"ws-a", "ws-b"} {
		h.sb.AddCase(liveSession(id), liveMessages(id))
	}
	h.pass()
	h.advance(time.Hour)
	h.addVisitorMessage("ws-a")
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sandbox.ChatPrefix+"/sessions" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"sessions":[{"id":"ws-a","status":"???","started_at":"garbage","updated_at":"2999-99-99"}],"next_cursor":""}`))
			return
		}
		h.sb.ServeHTTP(w, r)
	})
	s := h.pass()
	if s.Written != 1 || s.Failed != 0 {
		t.Errorf("summary %s, want ws-a written despite its garbled listing entry", s)
	}
	if got := h.card("ws-a").Text(h.cfg.ESM.Attributes.MessageCount); got != "5" {
		t.Errorf("ws-a message_count = %s, want 5", got)
	}
}
