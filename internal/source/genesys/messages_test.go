package genesys_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/genesys"
)

// pass is what the engine does with one conversation: Session, then
// Messages after the cursor.
func (f *fixture) pass(t *testing.T, conv, cursor string) ([]aggregate.Message, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.c.Session(ctx, conv); err != nil {
		t.Fatalf("Session: %v", err)
	}
	msgs, next, err := f.c.Messages(ctx, conv, cursor)
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	return msgs, next
}

// requests counts the chat requests since the last call.
func (f *fixture) requests() map[string]int {
	counts := f.sb.Counts()
	f.sb.ResetStats()
	return counts
}

func TestMessages_RequestsPerConversation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.seed(t, "ws-big", 2500)
	msgs, cursor := f.pass(t, conv, "")
	if len(msgs) != 2500 {
		t.Fatalf("%d messages, want 2500", len(msgs))
	}
	cold := f.requests()
	want := map[string]int{
		sandbox.RouteGenesysToken:           1,
		sandbox.RouteGenesysGetConversation: 1,
		sandbox.RouteGenesysMessagesBulk:    3, // 1000 + 1000 + 500 ids
		sandbox.RouteGenesysGetUser:         1,
		sandbox.RouteGenesysGetContact:      1,
	}
	if !sameCounts(cold, want) {
		t.Errorf("cold pass: %v, want %v", cold, want)
	}
	none, again := f.pass(t, conv, cursor)
	idle := f.requests()
	if len(none) != 0 || again != cursor {
		t.Errorf("idle pass: %d messages, cursor moved: %v", len(none), again != cursor)
	}
	if want := map[string]int{sandbox.RouteGenesysGetConversation: 1}; !sameCounts(idle, want) {
		t.Errorf("idle pass: %v, want exactly %v", idle, want)
	}
	if len(cursor) > 8<<10 {
		t.Errorf("cursor of %d bytes for 2500 messages; it must stay bounded", len(cursor))
	}
	f.clock.Advance(time.Minute)
	if err := f.sb.AppendMessages("ws-big", f.messages(f.clock.Now(), 2)...); err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.pass(t, conv, cursor)
	if len(fresh) != 2 || fresh[0].Text != "hello" || fresh[1].Sender.Name != "Ann Agent" {
		t.Errorf("new messages: %+v, want the 2 appended", fresh)
	}
	if got, want := f.requests(), map[string]int{sandbox.RouteGenesysGetConversation: 1, sandbox.RouteGenesysMessagesBulk: 1}; !sameCounts(got, want) {
		t.Errorf("pass with new messages: %v, want %v", got, want)
	}
}

func sameCounts(got, want map[string]int) bool {
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestMessages_BulkAtMost1000IDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.seed(t, "ws-1001", 1000)
	// With the join event, 1001 ids: two requests.
	f.pass(t, conv, "")
	if n := f.sb.Count(sandbox.RouteGenesysMessagesBulk); n != 2 {
		t.Errorf("%d bulk requests for 1001 ids, want 2", n)
	}
	if _, err := genesys.New(genesys.Options{BaseURL: "https://api.example.com", LoginURL: "https://login.example.com",
		ClientID: "id", ClientSecret: "s", BulkSize: 1001}); err == nil {
		t.Error("a bulk size over the vendor's 1000 was accepted")
	}
}

func TestMessages_SessionNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, err := f.c.Messages(context.Background(), "11111111-2222-5333-8444-555555555555", "")
	if !errors.Is(err, source.ErrNotFound) {
		t.Errorf("err = %v, want source.ErrNotFound", err)
	}
	if err != nil && !strings.Contains(err.Error(), ": 404 Not Found") {
		t.Errorf("err = %v, want the status in it", err)
	}
}

func TestMessages_ForeignCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.seed(t, "ws-cursor", 1)
	for _, c := range []string{"17", `{"w":0}`, "{", `{"w":-5,"s":[]}`} {
		if _, _, err := f.c.Messages(context.Background(), conv, c); !errors.Is(err, source.ErrInvalid) {
			t.Errorf("cursor %q: %v, want source.ErrInvalid", c, err)
		}
	}
}

func TestMessages_RateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.seed(t, "ws-429", 2)
	f.sb.FailNext(sandbox.RouteGenesysGetConversation, 1, sandbox.Failure{Status: 429, RetryAfter: 1})
	start := time.Now()
	if _, err := f.c.Session(context.Background(), conv); err != nil {
		t.Fatalf("one 429, then an answer: %v", err)
	}
	// The test's transport caps Retry-After at 2 ms; the one-second wait
	// asked for is capped, not skipped.
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v: Retry-After was not capped", d)
	}
	f.sb.SetFaults(sandbox.Faults{Chat: sandbox.Fault{RateLimitShare: 1, RetryAfter: 3600}})
	_, err := f.c.Session(context.Background(), conv)
	var rl *genesys.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour || !errors.Is(err, source.ErrUnavailable) {
		t.Errorf("err = %v, want a RateLimitError of 1h that is source.ErrUnavailable", err)
	}
}

// mapCache is a Cache in a map, standing for the tenant's state file.
type mapCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *mapCache) CacheGet(_ context.Context, ns, key string) (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[ns+"/"+key]
	return v, ok, nil
}

func (c *mapCache) CachePut(_ context.Context, ns, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[ns+"/"+key] = value
	return nil
}

// TestPeople_CachedAcrossProcesses: with a persistent cache, a new adapter
// (a new cron run) costs an idle conversation one request a pass, after its
// token; without one, it looks each person up again, once.
func TestPeople_CachedAcrossProcesses(t *testing.T) {
	t.Parallel()
	cache := &mapCache{m: map[string]string{}}
	f := newFixture(t, func(o *genesys.Options) { o.Cache = cache })
	conv := f.seed(t, "ws-people", 4)
	_, cursor := f.pass(t, conv, "")
	f.requests()
	for _, tt := range []struct {
		name  string
		cache genesys.Cache
		want  map[string]int
	}{
		{"PersistentCache", cache, map[string]int{sandbox.RouteGenesysToken: 1, sandbox.RouteGenesysGetConversation: 2}},
		{"MemoryOnly", nil, map[string]int{sandbox.RouteGenesysToken: 1, sandbox.RouteGenesysGetConversation: 2,
			sandbox.RouteGenesysGetUser: 1, sandbox.RouteGenesysGetContact: 1}},
	} {
		f.c = newClient(t, f.srv.URL, secret, func(o *genesys.Options) { o.Now, o.Cache = f.clock.Now, tt.cache })
		f.pass(t, conv, cursor)
		f.pass(t, conv, cursor)
		if got := f.requests(); !sameCounts(got, tt.want) {
			t.Errorf("%s: two idle passes of a new process sent %v, want %v", tt.name, got, tt.want)
		}
	}
}
