// Package sourcetest is the contract suite every chat platform adapter must
// pass (internal/source), run against the adapter talking to its
// platform's fake in internal/sandbox, the way litestream runs one suite
// against every ReplicaClient.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// Fault is a misbehaviour of the platform a Backend can switch on.
type Fault int

const (
	// NoFault: the platform behaves.
	NoFault Fault = iota
	// Unavailable: every request answers 5xx (after the transport's
	// retries, the adapter must say source.ErrUnavailable).
	Unavailable
	// Garbled: every body is malformed JSON (source.ErrInvalid).
	Garbled
	// RepeatedPage: the platform's paging of messages repeats itself
	// forever (the same page, or a cursor that does not move); the adapter
	// must stop with source.ErrInvalid, never loop.
	RepeatedPage
)

// Backend is one adapter talking to its platform's fake.
type Backend struct {
	Source source.Source
	// Seed puts a session and its whole transcript on the platform.
	Seed func(s aggregate.Session, msgs []aggregate.Message) error
	// Append adds messages to the end of a seeded session's transcript.
	Append func(id string, msgs ...aggregate.Message) error
	// SetFault switches a fault on (or off with NoFault).
	SetFault func(Fault)
	// Normalize maps a seeded session to what the adapter can give back
	// for it (a platform that cannot express something documents it); nil
	// is the identity.
	Normalize func(aggregate.Session) aggregate.Session
	// PageSize is the adapter's page size for messages, 0 when the
	// platform does not page them; transcripts in the suite span several
	// pages.
	PageSize int
	// ID maps the id a session was seeded under to the id the platform
	// answers to (SuperOffice numbers its sessions); nil is the identity.
	ID func(seeded string) string
	// Carried maps messages to what the platform carries of them, for
	// comparing what was seeded with what came back: it is applied to
	// both. A platform that adds entries of its own (SuperOffice's transfer
	// notices) leaves them out here. nil is the identity.
	Carried func([]aggregate.Message) []aggregate.Message
}

// id is the id the platform gives the session seeded as seeded.
func (b Backend) id(seeded string) string {
	if b.ID == nil {
		return seeded
	}
	return b.ID(seeded)
}

// carried is msgs as the backend carries them.
func (b Backend) carried(msgs []aggregate.Message) []aggregate.Message {
	if b.Carried == nil {
		return msgs
	}
	return b.Carried(msgs)
}

// Run runs the contract against backends made by newBackend, one per
// subtest.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"Session", testSession},
		{"NotFound", testNotFound},
		{"MessagesAcrossPages", testPaging},
		{"CursorResumes", testCursor},
		{"Unavailable", testUnavailable},
		{"Garbled", testGarbled},
		{"RepeatedPage", testRepeatedPage},
		{"Check", testCheck},
		{"ChangeLister", testChangeLister},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newBackend(t))
		})
	}
}

var t0 = time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// session is a session of every field: two agents in one live chat, the
// first of whom left.
func session(id string) aggregate.Session {
	return aggregate.Session{
		ID: id, Status: aggregate.StatusActive, StartedAt: at(0), UpdatedAt: at(400),
		Customer: aggregate.Customer{ID: "u-9", Name: "Maija Meikäläinen", Email: "maija@example.com"},
		LiveChats: []aggregate.LiveChat{{
			ID: "lc-1", RequestedAt: at(21), ConnectedAt: at(120),
			Agents: []aggregate.Agent{
				{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: at(120), LeftAt: at(300)},
				{ID: "a-2", Name: "Bob Agent", Email: "bob@example.com", JoinedAt: at(300)},
			},
		}},
	}
}

// messages are n messages alternating customer and agent, from second
// first on.
func messages(first, n int) []aggregate.Message {
	out := make([]aggregate.Message, n)
	for i := range out {
		m := aggregate.Message{Seq: int64(first + i), ID: fmt.Sprintf("m-%d", first+i), SentAt: at(130 + first + i),
			LiveChatID: "lc-1", Text: fmt.Sprintf("line %d\nsecond line", first+i),
			Sender: aggregate.Sender{Type: aggregate.SenderVisitor, ID: "u-9", Name: "Maija Meikäläinen"}}
		if i%2 == 1 {
			m.Sender = aggregate.Sender{Type: aggregate.SenderAgent, ID: "a-2", Name: "Bob Agent", Email: "bob@example.com"}
		}
		out[i] = m
	}
	return out
}

func seed(t *testing.T, b Backend, s aggregate.Session, msgs []aggregate.Message) {
	t.Helper()
	if err := b.Seed(s, msgs); err != nil {
		t.Fatalf("seed %s: %v", s.ID, err)
	}
}

var ctx = context.Background()

func testSession(t *testing.T, b Backend) {
	want := session("ct-session")
	seed(t, b, want, messages(1, 2))
	got, err := b.Source.Session(ctx, b.id(want.ID))
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if b.Normalize != nil {
		want = b.Normalize(want)
	}
	if g, w := describe(got), describe(want); g != w {
		t.Errorf("Session =\n%s\nwant\n%s", g, w)
	}
}

func testNotFound(t *testing.T, b Backend) {
	_, err := b.Source.Session(ctx, b.id("ct-missing"))
	if !errors.Is(err, source.ErrNotFound) {
		t.Errorf("Session of an unknown id: %v, want source.ErrNotFound", err)
	}
	_, _, err = b.Source.Messages(ctx, b.id("ct-missing"), "")
	if !errors.Is(err, source.ErrNotFound) {
		t.Errorf("Messages of an unknown id: %v, want source.ErrNotFound", err)
	}
}

func testPaging(t *testing.T, b Backend) {
	n := max(3*b.PageSize+1, 7)
	want := messages(1, n)
	seed(t, b, session("ct-paging"), want)
	got, _, err := b.Source.Messages(ctx, b.id("ct-paging"), "")
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	checkMessages(t, "all messages", b.carried(got), b.carried(want))
}

func testCursor(t *testing.T, b Backend) {
	all := messages(1, 9)
	seed(t, b, session("ct-cursor"), all[:5])
	id := b.id("ct-cursor")
	first, c1, err := b.Source.Messages(ctx, id, "")
	if err != nil {
		t.Fatalf("Messages from the start: %v", err)
	}
	checkMessages(t, "from the start", b.carried(first), b.carried(all[:5]))
	again, c1b, err := b.Source.Messages(ctx, id, c1)
	if err != nil || len(again) != 0 {
		t.Fatalf("Messages after the last: %d messages, %v; want none", len(again), err)
	}
	if err := b.Append("ct-cursor", all[5:]...); err != nil {
		t.Fatal(err)
	}
	rest, c2, err := b.Source.Messages(ctx, id, c1b)
	if err != nil {
		t.Fatalf("Messages after new ones came: %v", err)
	}
	checkMessages(t, "the new ones", b.carried(rest), b.carried(all[5:]))
	if none, _, err := b.Source.Messages(ctx, id, c2); err != nil || len(none) != 0 {
		t.Errorf("Messages after the new ones: %d messages, %v; want none", len(none), err)
	}
}

func testUnavailable(t *testing.T, b Backend) {
	seed(t, b, session("ct-down"), messages(1, 2))
	b.SetFault(Unavailable)
	_, err := b.Source.Session(ctx, b.id("ct-down"))
	if !errors.Is(err, source.ErrUnavailable) {
		t.Errorf("Session while the platform answers 5xx: %v, want source.ErrUnavailable", err)
	}
	_, _, err = b.Source.Messages(ctx, b.id("ct-down"), "")
	if !errors.Is(err, source.ErrUnavailable) {
		t.Errorf("Messages while the platform answers 5xx: %v, want source.ErrUnavailable", err)
	}
	b.SetFault(NoFault)
	if _, err := b.Source.Session(ctx, b.id("ct-down")); err != nil {
		t.Errorf("Session once the platform is back: %v", err)
	}
}

func testGarbled(t *testing.T, b Backend) {
	seed(t, b, session("ct-garbled"), messages(1, 2))
	b.SetFault(Garbled)
	id := b.id("ct-garbled")
	_, err := b.Source.Session(ctx, id)
	if !errors.Is(err, source.ErrInvalid) {
		t.Errorf("Session of a garbled body: %v, want source.ErrInvalid", err)
	}
	if err != nil && !strings.Contains(err.Error(), id) {
		t.Errorf("the error does not name the session: %v", err)
	}
}

func testRepeatedPage(t *testing.T, b Backend) {
	seed(t, b, session("ct-repeat"), messages(1, max(2*b.PageSize, 4)))
	b.SetFault(RepeatedPage)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, _, err := b.Source.Messages(ctx, b.id("ct-repeat"), "")
	if !errors.Is(err, source.ErrInvalid) {
		t.Errorf("Messages from a platform repeating its paging: %v, want source.ErrInvalid", err)
	}
}

func testCheck(t *testing.T, b Backend) {
	if err := b.Source.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	b.SetFault(Unavailable)
	if err := b.Source.Check(ctx); err == nil {
		t.Error("Check passed while the platform answers 5xx")
	}
}

func testChangeLister(t *testing.T, b Backend) {
	lister, ok := b.Source.(source.ChangeLister)
	if !ok {
		t.Skip("the source has no change listing")
	}
	for i, updated := range []int{100, 200, 300} {
		s := session(fmt.Sprintf("ct-list-%d", i))
		s.UpdatedAt = at(updated)
		seed(t, b, s, messages(1, 1))
	}
	seeded := map[string]string{}
	for i := range 3 {
		id := fmt.Sprintf("ct-list-%d", i)
		seeded[b.id(id)] = id
	}
	var got []string
	err := lister.ListChanges(ctx, at(200), func(l source.Listed) error {
		if id, ok := seeded[l.ID]; ok {
			got = append(got, id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ListChanges: %v", err)
	}
	slices.Sort(got)
	if want := []string{"ct-list-1", "ct-list-2"}; !slices.Equal(got, want) {
		t.Errorf("ListChanges since the second = %v, want %v", got, want)
	}
}

// checkMessages compares what an adapter returned with what was seeded:
// order, senders, times and texts; Seq is the adapter's own.
func checkMessages(t *testing.T, what string, got, want []aggregate.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.Seq, w.Seq = 0, 0
		if describeMessage(g) != describeMessage(w) {
			t.Errorf("%s: message %d =\n%s\nwant\n%s", what, i, describeMessage(g), describeMessage(w))
		}
	}
}

func describe(s aggregate.Session) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s started %s ended %s customer %+v\n", s.ID, s.Status, utc(s.StartedAt), utc(s.EndedAt), s.Customer)
	for _, lc := range s.LiveChats {
		fmt.Fprintf(&b, "  live chat %s requested %s connected %s ended %s\n", lc.ID, utc(lc.RequestedAt), utc(lc.ConnectedAt), utc(lc.EndedAt))
		for _, a := range lc.Agents {
			fmt.Fprintf(&b, "    agent %s %q <%s> joined %s left %s\n", a.ID, a.Name, a.Email, utc(a.JoinedAt), utc(a.LeftAt))
		}
	}
	return b.String()
}

func describeMessage(m aggregate.Message) string {
	return fmt.Sprintf("%s %s %s %q <%s> in %q: %q", m.ID, utc(m.SentAt), m.Sender.Type, m.Sender.Name, m.Sender.Email, m.LiveChatID, m.Text)
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
