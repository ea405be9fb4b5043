package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/transcript"
)

type sessionPage struct {
	Sessions []struct {
		ID        string     `json:"id"`
		Status    string     `json:"status"`
		EndedAt   *time.Time `json:"ended_at"`
		UpdatedAt time.Time  `json:"updated_at"`
	} `json:"sessions"`
	NextCursor *string `json:"next_cursor"`
}

func TestChat_Auth(t *testing.T) {
	f := newFixture(t, Options{ChatToken: "secret"})
	tests := []struct {
		name string
		auth string
		want int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"wrong scheme", "Basic secret", http.StatusUnauthorized},
		{"good", "Bearer secret", http.StatusOK},
		{"scheme case-insensitive", "bearer secret", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("GET", ChatPrefix+"/sessions", tt.auth, nil, "")
			if r.status != tt.want {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(string(r.body), `"error"`) {
				t.Errorf("body %s has no error", r.body)
			}
		})
	}
}

// addSessions adds n sessions whose updated_at repeat in groups of three,
// so that pages split runs of equal timestamps.
func addSessions(t *testing.T, s *Server, n int) {
	t.Helper()
	for i := range n {
		sess := aggregate.Session{
			ID:        fmt.Sprintf("ws-%03d", n-i), // ids against time order
			StartedAt: t0,
			UpdatedAt: t0.Add(time.Duration(i/3) * time.Minute),
		}
		if err := s.AddSession(sess, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func listAll(t *testing.T, f *fixture, query url.Values) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		r := f.chat("/sessions?" + query.Encode())
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var p sessionPage
		r.decode(t, &p)
		pages++
		for _, s := range p.Sessions {
			ids = append(ids, s.ID)
		}
		if p.NextCursor == nil {
			t.Fatal("next_cursor missing")
		}
		if *p.NextCursor == "" {
			return ids, pages
		}
		query.Set("cursor", *p.NextCursor)
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

func TestChat_ListSessionsPaging(t *testing.T) {
	f := newFixture(t, Options{})
	addSessions(t, f.Server, 50)
	want := f.SessionIDs()
	tests := []struct {
		name      string
		limit     string
		since     string
		want      []string
		wantPages int
	}{
		{"default limit", "", "", want, 1},
		{"limit 7", "7", "", want, 8},
		{"limit 1", "1", "", want, 50},
		{"exact fit", "25", "", want, 2},
		{"since", "4", t0.Add(10 * time.Minute).Format(time.RFC3339), want[30:], 5},
		{"since with offset", "100", t0.Add(10 * time.Minute).In(time.FixedZone("", 3*3600)).Format(time.RFC3339), want[30:], 1},
		{"since after all", "10", t0.Add(time.Hour).Format(time.RFC3339), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			if tt.limit != "" {
				q.Set("limit", tt.limit)
			}
			if tt.since != "" {
				q.Set("updated_since", tt.since)
			}
			got, pages := listAll(t, f, q)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %v\nwant %v", got, tt.want)
			}
			if pages != tt.wantPages {
				t.Errorf("pages %d, want %d", pages, tt.wantPages)
			}
		})
	}
}

func TestChat_SessionOrderIsUpdatedAtThenID(t *testing.T) {
	f := newFixture(t, Options{})
	addSessions(t, f.Server, 6)
	// ws-006, ws-005, ws-004 share t0; ws-003.. share t0+1m.
	want := []string{"ws-004", "ws-005", "ws-006", "ws-001", "ws-002", "ws-003"}
	if got := f.SessionIDs(); !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestChat_ListSessionsBadRequest(t *testing.T) {
	f := newFixture(t, Options{})
	for _, q := range []string{"limit=0", "limit=x", "updated_since=yesterday", "cursor=!!!", "cursor=bm90LWEtY3Vyc29y"} {
		t.Run(q, func(t *testing.T) {
			if r := f.chat("/sessions?" + q); r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
		})
	}
}

func TestChat_UpdatedAtMoves(t *testing.T) {
	f := newFixture(t, Options{})
	addSessions(t, f.Server, 5)
	f.clock.Advance(24 * time.Hour)
	since := f.clock.Now()
	q := url.Values{"updated_since": {since.Format(time.RFC3339)}}
	if ids, _ := listAll(t, f, q); len(ids) != 0 {
		t.Fatalf("before changes: %v", ids)
	}
	f.clock.Advance(time.Second)
	if err := f.AppendMessages("ws-003", aggregate.Message{SentAt: since, Sender: aggregate.Sender{Type: aggregate.SenderVisitor}, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	if err := f.EndSession("ws-005", time.Time{}); err != nil {
		t.Fatal(err)
	}
	ids, _ := listAll(t, f, q)
	if want := []string{"ws-003", "ws-005"}; !slices.Equal(ids, want) {
		t.Fatalf("changed sessions %v, want %v", ids, want)
	}
	sess, msgs, _ := f.Session("ws-003")
	if len(msgs) != 1 || msgs[0].Seq != 1 || !sess.UpdatedAt.Equal(since.Add(time.Second)) {
		t.Errorf("ws-003 after append: %+v %+v", sess, msgs)
	}
	if sess, _, _ := f.Session("ws-005"); sess.Status != aggregate.StatusEnded || !sess.EndedAt.Equal(f.clock.Now()) {
		t.Errorf("ws-005 after end: %+v", sess)
	}
	if err := f.AppendMessages("ws-003", aggregate.Message{Seq: 1}); err == nil {
		t.Error("a repeated seq was accepted")
	}
}

func TestChat_GetSession(t *testing.T) {
	f := newFixture(t, Options{})
	sess, msgs := exampleSession("ws-1")
	if err := f.AddSession(sess, msgs); err != nil {
		t.Fatal(err)
	}
	if r := f.chat("/sessions/nope"); r.status != http.StatusNotFound || !strings.Contains(string(r.body), `"error"`) {
		t.Errorf("unknown session: %d %s", r.status, r.body)
	}
	r := f.chat("/sessions/ws-1")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	for _, want := range []string{`"connected_at":"2024-06-03T09:02:00Z"`, `"ended_at":null`, `"left_at":null`, `"email":"Maija@Example.com"`, `"updated_at":"2024-06-03T09:07:00Z"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("body lacks %s: %s", want, r.body)
		}
	}
	got, err := transcript.DecodeSession(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "ws-1" || got.Status != aggregate.StatusEnded || len(got.LiveChats[0].Agents) != 2 {
		t.Errorf("session %+v", got)
	}
	if !f.DeleteSession("ws-1") || f.chat("/sessions/ws-1").status != http.StatusNotFound || len(f.SessionIDs()) != 0 {
		t.Error("a deleted session is still served")
	}
}

func TestChat_MessagesPaging(t *testing.T) {
	f := newFixture(t, Options{})
	sess, msgs := exampleSession("ws-1")
	if err := f.AddSession(sess, msgs); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Messages []struct {
			Seq int64 `json:"seq"`
		} `json:"messages"`
		HasMore bool `json:"has_more"`
	}
	tests := []struct {
		query    string
		wantSeqs []int64
		wantMore bool
	}{
		{"", []int64{1, 2, 3, 4, 5, 6, 7}, false},
		{"limit=3", []int64{1, 2, 3}, true},
		{"after=3&limit=3", []int64{4, 5, 6}, true},
		{"after=6&limit=3", []int64{7}, false},
		{"after=7", nil, false},
		{"after=100", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.chat("/sessions/ws-1/messages?" + tt.query)
			var p page
			r.decode(t, &p)
			var seqs []int64
			for _, m := range p.Messages {
				seqs = append(seqs, m.Seq)
			}
			if !slices.Equal(seqs, tt.wantSeqs) || p.HasMore != tt.wantMore {
				t.Errorf("seqs %v more %v, want %v %v", seqs, p.HasMore, tt.wantSeqs, tt.wantMore)
			}
		})
	}
	r := f.chat("/sessions/ws-1/messages?limit=2")
	for _, want := range []string{`"live_chat_id":null`, `"id":"m-1"`, `"type":"bot"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("body lacks %s: %s", want, r.body)
		}
	}
	if r := f.chat("/sessions/nope/messages"); r.status != http.StatusNotFound {
		t.Errorf("unknown session: %d", r.status)
	}
	if r := f.chat("/sessions/ws-1/messages?after=-1"); r.status != http.StatusBadRequest {
		t.Errorf("bad after: %d", r.status)
	}
}
