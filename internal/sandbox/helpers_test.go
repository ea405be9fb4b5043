package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// clock is a settable clock for Options.Now.
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

type fixture struct {
	*Server
	clock *clock
	ts    *httptest.Server
	t     *testing.T
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	s := New(opts)
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &fixture{Server: s, clock: c, ts: ts, t: t}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (f *fixture) do(method, path, auth string, body io.Reader, contentType string) response {
	f.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = f.ts.URL + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (f *fixture) chat(path string) response {
	f.t.Helper()
	return f.do("GET", ChatPrefix+path, "Bearer "+f.Options().ChatToken, nil, "")
}

func (f *fixture) login() string {
	f.t.Helper()
	form := url.Values{"login": {f.Options().Login}, "password": {f.Options().Password}}
	r := f.do("POST", ESMPrefix+"/users/login", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if r.status != http.StatusOK {
		f.t.Fatalf("login: %d %s", r.status, r.body)
	}
	var body struct{ Token string }
	r.decode(f.t, &body)
	return body.Token
}

func (f *fixture) esm(method, path, token string, body any) response {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	return f.do(method, ESMPrefix+path, token, rd, "application/json")
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var t0 = time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)

// exampleSession is the worked example of SPEC §5.
func exampleSession(id string) (aggregate.Session, []aggregate.Message) {
	at := func(h, m, s int) time.Time { return time.Date(2024, 6, 3, h, m, s, 0, time.UTC) }
	cust := aggregate.Customer{ID: "u-9", Name: "Maija Meikäläinen", Email: "Maija@Example.com"}
	ann := aggregate.Agent{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: at(9, 2, 0), LeftAt: at(9, 5, 0)}
	bob := aggregate.Agent{ID: "a-2", Name: "Bob Builder", Email: "BOB@example.com", JoinedAt: at(9, 5, 0)}
	sess := aggregate.Session{
		ID: id, Status: aggregate.StatusEnded, StartedAt: at(9, 0, 0), EndedAt: at(9, 7, 0), Customer: cust,
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: at(9, 0, 21), ConnectedAt: at(9, 2, 0), Agents: []aggregate.Agent{ann, bob}}},
	}
	visitor := aggregate.Sender{Type: aggregate.SenderVisitor, ID: "u-9", Name: cust.Name, Email: cust.Email}
	msgs := []aggregate.Message{
		{Seq: 1, SentAt: at(9, 0, 1), Sender: aggregate.Sender{Type: aggregate.SenderBot, Name: "Botti"}, Text: "Hi, I'm Botti"},
		{Seq: 2, SentAt: at(9, 0, 20), Sender: visitor, Text: "I need a human"},
		{Seq: 3, SentAt: at(9, 1, 0), Sender: visitor, LiveChatID: "lc-1", Text: "hello?"},
		{Seq: 4, SentAt: at(9, 2, 10), Sender: visitor, LiveChatID: "lc-1", Text: "my VPN is down"},
		{Seq: 5, SentAt: at(9, 2, 11), Sender: aggregate.Sender{Type: aggregate.SenderSystem}, LiveChatID: "lc-1", Text: "Ann joined"},
		{Seq: 6, SentAt: at(9, 2, 55), Sender: aggregate.Sender{Type: aggregate.SenderAgent, Name: "Ann Agent", Email: "ann@example.com"}, LiveChatID: "lc-1", Text: "Let me check"},
		{Seq: 7, SentAt: at(9, 6, 0), Sender: aggregate.Sender{Type: aggregate.SenderAgent, Name: "Bob Builder", Email: "BOB@example.com"}, LiveChatID: "lc-1", Text: "Fixed"},
	}
	return sess, msgs
}
