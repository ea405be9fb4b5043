package generic_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/generic"
)

// newBackendFunc starts a chat platform for one test and returns its base
// URL, the token it accepts and a way to add a session with its messages.
// The backend may hold other sessions; the contract only looks at those it
// seeded, whose ids are unique to the test run.
type newBackendFunc func(t *testing.T) (baseURL, token string, seed func(aggregate.Session, []aggregate.Message))

// testContract runs the behaviour every chat platform backend must show to
// the client: the fake here, the sandbox (internal/sandbox, under
// /chat/api/v1), and any future one.
func testContract(t *testing.T, newBackend newBackendFunc) {
	t.Run("Session", func(t *testing.T) { contractSession(t, newBackend) })
	t.Run("SessionNotFound", func(t *testing.T) { contractSessionNotFound(t, newBackend) })
	t.Run("SessionIDEscaped", func(t *testing.T) { contractSessionIDEscaped(t, newBackend) })
	t.Run("MessagesPaging", func(t *testing.T) { contractMessagesPaging(t, newBackend) })
	t.Run("MessagesNotFound", func(t *testing.T) { contractMessagesNotFound(t, newBackend) })
	t.Run("ListSessions", func(t *testing.T) { contractListSessions(t, newBackend) })
	t.Run("Unauthorized", func(t *testing.T) { contractUnauthorized(t, newBackend) })
}

// contractClient is a client of the backend with a small page size, so that
// a few seeded rows already span several pages.
func contractClient(t *testing.T, baseURL, token string) *generic.Client {
	t.Helper()
	c, err := generic.New(generic.Options{
		BaseURL:  baseURL,
		Token:    token,
		PageSize: 2,
		HTTP:     httpclient.Options{Retries: 1, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// uniqueID makes seeded ids that cannot clash with a backend's own data.
func uniqueID(name string) string {
	return fmt.Sprintf("contract-%s-%d", name, time.Now().UnixNano())
}

var t0 = time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// fullSession is a session using every field of GET /sessions/{id}.
func fullSession(id string) aggregate.Session {
	return aggregate.Session{
		ID: id, Status: aggregate.StatusEnded,
		StartedAt: at(0), EndedAt: at(420), UpdatedAt: at(420),
		Customer: aggregate.Customer{ID: "u-9", Name: "Maija Meikäläinen", Email: "maija@example.com"},
		LiveChats: []aggregate.LiveChat{{
			ID: "lc-1", RequestedAt: at(21), ConnectedAt: at(120), EndedAt: at(420),
			Agents: []aggregate.Agent{
				{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: at(120), LeftAt: at(300)},
				{ID: "a-2", Name: "Bob Agent", Email: "bob@example.com", JoinedAt: at(300)},
			},
		}, {ID: "lc-2", RequestedAt: at(400), Agents: []aggregate.Agent{}}},
	}
}

func transcript(n int) []aggregate.Message {
	msgs := make([]aggregate.Message, n)
	for i := range msgs {
		msgs[i] = aggregate.Message{
			Seq: int64(i + 1), ID: fmt.Sprintf("m-%d", i+1), SentAt: at(i + 1),
			Sender:     aggregate.Sender{Type: aggregate.SenderVisitor, ID: "u-9", Name: "Maija"},
			LiveChatID: "lc-1", Text: fmt.Sprintf("line %d\nsecond line", i+1),
		}
	}
	return msgs
}

func contractSession(t *testing.T, newBackend newBackendFunc) {
	base, token, seed := newBackend(t)
	want := fullSession(uniqueID("session"))
	seed(want, transcript(1))
	got, err := contractClient(t, base, token).Session(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if !reflect.DeepEqual(inUTC(got), inUTC(want)) {
		t.Errorf("Session =\n%+v\nwant\n%+v", got, want)
	}
}

func contractSessionNotFound(t *testing.T, newBackend newBackendFunc) {
	base, token, _ := newBackend(t)
	_, err := contractClient(t, base, token).Session(context.Background(), uniqueID("missing"))
	if !errors.Is(err, generic.ErrSessionNotFound) {
		t.Errorf("err = %v, want ErrSessionNotFound", err)
	}
}

func contractSessionIDEscaped(t *testing.T, newBackend newBackendFunc) {
	base, token, seed := newBackend(t)
	want := fullSession(uniqueID("odd") + " a/b?c#d%e")
	seed(want, transcript(3))
	c := contractClient(t, base, token)
	got, err := c.Session(context.Background(), want.ID)
	if err != nil || got.ID != want.ID {
		t.Fatalf("Session(%q) = %q, %v", want.ID, got.ID, err)
	}
	msgs, _, err := c.Messages(context.Background(), want.ID, cursorOf(0))
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Messages(%q) = %d messages, %v; want 3", want.ID, len(msgs), err)
	}
}

func contractMessagesPaging(t *testing.T, newBackend newBackendFunc) {
	base, token, seed := newBackend(t)
	s := fullSession(uniqueID("messages"))
	all := transcript(5)
	seed(s, all)
	c := contractClient(t, base, token)
	for _, after := range []int64{0, 1, 2, 4, 5, 9} {
		got, _, err := c.Messages(context.Background(), s.ID, cursorOf(after))
		if err != nil {
			t.Fatalf("Messages(after=%d): %v", after, err)
		}
		want := all[min(int(after), len(all)):]
		if !reflect.DeepEqual(inUTCMsgs(got), inUTCMsgs(want)) {
			t.Errorf("Messages(after=%d) = %+v, want %+v", after, got, want)
		}
	}
}

func contractMessagesNotFound(t *testing.T, newBackend newBackendFunc) {
	base, token, _ := newBackend(t)
	_, _, err := contractClient(t, base, token).Messages(context.Background(), uniqueID("missing"), cursorOf(0))
	if !errors.Is(err, generic.ErrSessionNotFound) {
		t.Errorf("err = %v, want ErrSessionNotFound", err)
	}
}

func contractListSessions(t *testing.T, newBackend newBackendFunc) {
	base, token, seed := newBackend(t)
	prefix := uniqueID("list")
	var seeded []aggregate.Session
	for i, updated := range []int{100, 200, 200, 300, 400} {
		s := fullSession(fmt.Sprintf("%s-%d", prefix, i))
		s.Status, s.EndedAt, s.UpdatedAt = aggregate.StatusActive, time.Time{}, at(updated)
		seed(s, transcript(1))
		seeded = append(seeded, s)
	}
	var got []string
	err := contractClient(t, base, token).ListChanges(context.Background(), at(200), func(s source.Listed) error {
		if i := slices.IndexFunc(seeded, func(x aggregate.Session) bool { return x.ID == s.ID }); i >= 0 {
			if !s.UpdatedAt.Equal(seeded[i].UpdatedAt) || s.Status != aggregate.StatusActive || !s.StartedAt.Equal(at(0)) {
				t.Errorf("listed %+v, want the head of %+v", s, seeded[i])
			}
			got = append(got, s.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	// updated_since is inclusive; order is (updated_at, id).
	want := []string{seeded[1].ID, seeded[2].ID, seeded[3].ID, seeded[4].ID}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}

func contractUnauthorized(t *testing.T, newBackend newBackendFunc) {
	base, token, seed := newBackend(t)
	s := fullSession(uniqueID("auth"))
	seed(s, transcript(1))
	c := contractClient(t, base, token+"-wrong")
	ctx := context.Background()
	_, errSession := c.Session(ctx, s.ID)
	_, _, errMessages := c.Messages(ctx, s.ID, cursorOf(0))
	errList := c.ListChanges(ctx, time.Time{}, func(source.Listed) error { return nil })
	for name, err := range map[string]error{"Session": errSession, "Messages": errMessages, "ListSessions": errList} {
		if !errors.Is(err, generic.ErrUnauthorized) {
			t.Errorf("%s: err = %v, want ErrUnauthorized", name, err)
		}
	}
}

// inUTC returns s with every time in UTC, so that a backend answering with
// another offset still compares equal.
func inUTC(s aggregate.Session) aggregate.Session {
	s.StartedAt, s.EndedAt, s.UpdatedAt = s.StartedAt.UTC(), s.EndedAt.UTC(), s.UpdatedAt.UTC()
	s.LiveChats = slices.Clone(s.LiveChats)
	for i, lc := range s.LiveChats {
		lc.RequestedAt, lc.ConnectedAt, lc.EndedAt = lc.RequestedAt.UTC(), lc.ConnectedAt.UTC(), lc.EndedAt.UTC()
		lc.Agents = slices.Clone(lc.Agents)
		for j, a := range lc.Agents {
			a.JoinedAt, a.LeftAt = a.JoinedAt.UTC(), a.LeftAt.UTC()
			lc.Agents[j] = a
		}
		s.LiveChats[i] = lc
	}
	return s
}

func inUTCMsgs(msgs []aggregate.Message) []aggregate.Message {
	out := make([]aggregate.Message, len(msgs))
	for i, m := range msgs {
		m.SentAt = m.SentAt.UTC()
		out[i] = m
	}
	return out
}

// cursorOf is the cursor of the generic adapter after seq.
func cursorOf(seq int64) string {
	if seq == 0 {
		return ""
	}
	return strconv.FormatInt(seq, 10)
}
