package superoffice_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/superoffice"
)

var ctx = context.Background()

// TestSession_Status maps every ChatSessionStatus, by name and by number,
// as SPEC §4.3.1 says; an unknown one is active and logged.
func TestSession_Status(t *testing.T) {
	t.Parallel()
	ended := "2024-06-03T11:40:00Z"
	tests := []struct {
		status     any
		want       aggregate.Status
		reopenable bool
	}{
		{"PreChatForm", aggregate.StatusActive, false}, {"Faq", aggregate.StatusActive, false},
		{"OfflineForm", aggregate.StatusActive, false}, {"InQueue", aggregate.StatusActive, false},
		{"CustomerLast", aggregate.StatusActive, false}, {"UserLast", aggregate.StatusActive, false},
		{"Finished", aggregate.StatusEnded, true}, {"Deleted", aggregate.StatusEnded, false},
		{"Closed", aggregate.StatusEnded, false}, {"RequestPosted", aggregate.StatusEnded, false},
		{"ClosedFromQueue", aggregate.StatusEnded, false},
		{6, aggregate.StatusActive, false}, {7, aggregate.StatusEnded, true}, {"11", aggregate.StatusEnded, false},
		{"closed", aggregate.StatusEnded, false},
		{"Bogus", aggregate.StatusActive, false}, {42, aggregate.StatusActive, false},
		{"Invalid", aggregate.StatusActive, false},
	}
	for _, tt := range tests {
		w := newWire(t)
		w.sessions["220"] = so(220, map[string]any{"Status": tt.status, "WhenEnded": ended})
		var logs bytes.Buffer
		s, err := w.client(nil, &logs).Session(ctx, "220")
		if err != nil {
			t.Fatalf("Status %v: %v", tt.status, err)
		}
		if s.Status != tt.want || (!s.ReopenableUntil.IsZero()) != tt.reopenable {
			t.Errorf("Status %v: %s, reopenable until %v; want %s, reopenable %v", tt.status, s.Status, s.ReopenableUntil,
				tt.want, tt.reopenable)
		}
		if tt.reopenable && !s.ReopenableUntil.Equal(time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)) {
			t.Errorf("Finished: reopenable until %v, want WhenEnded + 30m", s.ReopenableUntil)
		}
		if s.Ended() && !s.EndedAt.Equal(time.Date(2024, 6, 3, 11, 40, 0, 0, time.UTC)) {
			t.Errorf("Status %v: ended at %v", tt.status, s.EndedAt)
		}
		unknown := tt.status == "Bogus" || tt.status == 42 || tt.status == "Invalid"
		if got := strings.Contains(logs.String(), "ChatSessionStatus this syncworker does not know"); got != unknown {
			t.Errorf("Status %v: warned %v, want %v: %s", tt.status, got, unknown, logs.String())
		}
		if unknown && !strings.Contains(logs.String(), "session=220") {
			t.Errorf("the warning does not name the session: %s", logs.String())
		}
	}
}

// A Finished session without a grace is final at once; with no WhenEnded
// its end is WhenIdle.
func TestSession_FinishedWithoutGrace(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["5"] = so(5, map[string]any{"Status": "Finished"})
	s, err := w.client(nil, nil, func(o *superoffice.Options) { o.ReopenGrace = 0 }).Session(ctx, "5")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Ended() || !s.ReopenableUntil.IsZero() || !s.EndedAt.Equal(time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("Finished, no grace, no WhenEnded: %s ended %v reopenable %v", s.Status, s.EndedAt, s.ReopenableUntil)
	}
}

func TestSession_Shape(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.agent(12, "Ann Agent", "ann@example.com")
	w.sessions["220"] = so(220, map[string]any{"WhenStarted": "2024-06-03T09:02:00Z", "User": user(12, "Ann Agent"),
		"WhenEnded": "0001-01-01T00:00:00", "CustomerName": " Maija M ", "Extra": map[string]any{"x": 1}})
	s, err := w.client(nil, nil).Session(ctx, "220")
	if err != nil {
		t.Fatal(err)
	}
	want := aggregate.Session{ID: "220", Status: aggregate.StatusActive,
		StartedAt: time.Date(2024, 6, 3, 9, 0, 0, 123456700, time.UTC),
		Customer:  aggregate.Customer{Name: "Maija M", Email: "maija@example.com"},
		LiveChats: []aggregate.LiveChat{{ID: "220", RequestedAt: time.Date(2024, 6, 3, 9, 0, 0, 123456700, time.UTC),
			ConnectedAt: time.Date(2024, 6, 3, 9, 2, 0, 0, time.UTC),
			Agents: []aggregate.Agent{{ID: "12", Name: "Ann Agent", Email: "ann@example.com",
				JoinedAt: time.Date(2024, 6, 3, 9, 2, 0, 0, time.UTC)}}}}}
	if g, w := describe(s), describe(want); g != w {
		t.Errorf("Session =\n%s\nwant\n%s", g, w)
	}
}

// A bot alone has had the session: no live chat.
func TestSession_BotOnly(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["9"] = so(9, map[string]any{"ChatbotIsActive": true})
	s, err := w.client(nil, nil).Session(ctx, "9")
	if err != nil || len(s.LiveChats) != 0 {
		t.Errorf("bot-only session: %d live chats, %v; want none", len(s.LiveChats), err)
	}
	w.sessions["10"] = so(10, map[string]any{"ChatbotIsActive": false, "Status": "InQueue"})
	s, err = w.client(nil, nil).Session(ctx, "10")
	if err != nil || len(s.LiveChats) != 1 || !s.LiveChats[0].ConnectedAt.IsZero() {
		t.Errorf("queued session: %+v, %v; want one live chat, not connected", s.LiveChats, err)
	}
}

// The first agent is the User as first seen, kept in the cache: a later
// transfer adds the receiver and rewrites nothing; a rejected transfer is
// no stint.
func TestSession_Transfers(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.agent(12, "Ann Agent", "ann@example.com")
	w.agent(13, "Bob Agent", "bob@example.com")
	w.agent(14, "Cay Agent", "")
	started := "2024-06-03T09:02:00Z"
	w.sessions["220"] = so(220, map[string]any{"WhenStarted": started, "User": user(12, "Ann Agent")})
	w.messages["220"] = []string{msg(50, 220, "ToUser", "None", "Maija", "hi", "2024-06-03T09:01:00Z"),
		msg(53, 220, "ToCustomer", "None", "Ann Agent", "hello", "2024-06-03T09:02:30Z")}
	cache := &source.MemoryCache{}
	agents := func(c *superoffice.Client) string {
		t.Helper()
		s, err := c.Session(ctx, "220")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range s.LiveChats[0].Agents {
			out = append(out, a.ID+" "+a.Name+" <"+a.Email+"> "+a.JoinedAt.Format("15:04:05"))
		}
		return strings.Join(out, "; ")
	}
	if got, want := agents(w.client(cache, nil)), "12 Ann Agent <ann@example.com> 09:02:00"; got != want {
		t.Fatalf("before the transfer: %s, want %s", got, want)
	}
	// Ann transfers to Bob; Bob's transfer to Cay is rejected. A new
	// process (same cache) sees it.
	w.sessions["220"] = so(220, map[string]any{"WhenStarted": started, "User": user(13, "Bob Agent"), "Status": "Finished",
		"WhenEnded": "2024-06-03T09:20:00Z"})
	w.messages["220"] = append(w.messages["220"], special(54, 220, "TransferedSession", "13", "2024-06-03T09:05:00Z"),
		msg(55, 220, "ToCustomer", "None", "Bob Agent", "Bob here", "2024-06-03T09:06:00Z"),
		special(56, 220, "TransferedSession", "14", "2024-06-03T09:07:00Z"),
		special(57, 220, "TransferRejected", "14", "2024-06-03T09:07:30Z"))
	want := "12 Ann Agent <ann@example.com> 09:02:00; 13 Bob Agent <bob@example.com> 09:05:00"
	if got := agents(w.client(cache, nil)); got != want {
		t.Errorf("after the transfers: %s\nwant %s", got, want)
	}
	if n := w.hit("Associate"); n != 2 {
		t.Errorf("%d associate lookups, want 2: one per agent, then the cache", n)
	}
}

// A session first seen after a transfer has its first agent by the author
// of the first agent message only, and the adapter says so.
func TestSession_FirstSeenAfterTransfer(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.agent(13, "Bob Agent", "bob@example.com")
	w.sessions["220"] = so(220, map[string]any{"WhenStarted": "2024-06-03T09:02:00Z", "User": user(13, "Bob Agent")})
	w.messages["220"] = []string{msg(50, 220, "ToCustomer", "None", "Botti", "hi", "2024-06-03T09:01:00Z"),
		msg(53, 220, "ToCustomer", "None", " Ann Agent ", "hello", "2024-06-03T09:02:30Z"),
		special(54, 220, "TransferedSession", "13", "2024-06-03T09:05:00Z")}
	var logs bytes.Buffer
	s, err := w.client(nil, &logs).Session(ctx, "220")
	if err != nil {
		t.Fatal(err)
	}
	a := s.LiveChats[0].Agents
	if len(a) != 2 || a[0].Name != "Ann Agent" || a[0].Email != "" || a[0].ID != "" || a[1].Email != "bob@example.com" {
		t.Errorf("agents %+v; want Ann by name only, then Bob", a)
	}
	if !strings.Contains(logs.String(), "first seen after a transfer") || !strings.Contains(logs.String(), "session=220") {
		t.Errorf("no warning naming the session: %s", logs.String())
	}
}

// An agent SuperOffice no longer knows keeps the User's name and has no
// email; an associate without a person has no email either.
func TestSession_AgentNotFound(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["1"] = so(1, map[string]any{"WhenStarted": "2024-06-03T09:02:00Z", "User": user(77, "Gone Agent")})
	s, err := w.client(nil, nil).Session(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	if a := s.LiveChats[0].Agents; len(a) != 1 || a[0].Name != "Gone Agent" || a[0].Email != "" {
		t.Errorf("agents %+v; want Gone Agent without email", a)
	}
}

func TestSession_BadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, body string
		kind           error
		says           []string
	}{
		{"not found", "220", "", source.ErrNotFound, []string{"220", ": 404 Not Found"}},
		{"not an id", "ws-1", "", source.ErrNotFound, []string{`"ws-1"`, "ChatSessionId"}},
		{"status missing", "220", so(220, map[string]any{"Status": nil}), source.ErrInvalid, []string{"220", "Status missing"}},
		{"status an object", "220", so(220, map[string]any{"Status": map[string]any{}}), source.ErrInvalid, []string{"220", "Status"}},
		{"no start", "220", so(220, map[string]any{"WhenRequested": nil}), source.ErrInvalid, []string{"220", "WhenRequested"}},
		{"bad time", "220", so(220, map[string]any{"WhenStarted": "yesterday"}), source.ErrInvalid, []string{"220", "WhenStarted", "yesterday"}},
		{"future", "220", so(220, map[string]any{"WhenEnded": "2099-01-01T00:00:00Z"}), source.ErrInvalid, []string{"220", "WhenEnded", "future"}},
		{"other session", "220", so(221, nil), source.ErrInvalid, []string{"220", "221"}},
		{"array", "220", "[]", source.ErrInvalid, []string{"220", "object"}},
	}
	for _, tt := range tests {
		w := newWire(t)
		if tt.body != "" {
			w.sessions[tt.id] = tt.body
		}
		_, err := w.client(nil, nil).Session(ctx, tt.id)
		if !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
			continue
		}
		for _, s := range tt.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %q", tt.name, err, s)
			}
		}
	}
}

// describe is a session on a few lines, for comparing.
func describe(s aggregate.Session) string {
	var b strings.Builder
	b.WriteString(s.ID + " " + string(s.Status) + " " + s.StartedAt.UTC().String() + " " + s.EndedAt.UTC().String() +
		" " + s.Customer.ID + "|" + s.Customer.Name + "|" + s.Customer.Email + "\n")
	for _, lc := range s.LiveChats {
		b.WriteString("  " + lc.ID + " " + lc.RequestedAt.UTC().String() + " " + lc.ConnectedAt.UTC().String() + "\n")
		for _, a := range lc.Agents {
			b.WriteString("    " + a.ID + "|" + a.Name + "|" + a.Email + " " + a.JoinedAt.UTC().String() + "\n")
		}
	}
	return b.String()
}

// An associate is looked up once a day, once an hour without email; a
// failed lookup falls back to what the cache holds.
func TestSession_AssociateCache(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.agent(12, "Ann Agent", "ann@example.com")
	w.sessions["1"] = so(1, map[string]any{"WhenStarted": "2024-06-03T09:02:00Z", "User": user(12, "Ann Agent")})
	clock := now
	cache := &source.MemoryCache{}
	c := w.client(cache, nil, func(o *superoffice.Options) { o.Now = func() time.Time { return clock } })
	for range 3 {
		if _, err := c.Session(ctx, "1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.hit("Associate"); n != 1 {
		t.Errorf("%d lookups within a day, want 1", n)
	}
	clock = clock.Add(25 * time.Hour)
	w.answer = func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "/Associate/") {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	s, err := c.Session(ctx, "1")
	if err != nil || s.LiveChats[0].Agents[0].Email != "ann@example.com" {
		t.Errorf("a failed lookup of a cached associate: %v, %v", s.LiveChats, err)
	}
	if n := w.hit("Associate"); n != 2 {
		t.Errorf("%d lookups after a day, want 2", n)
	}
}
