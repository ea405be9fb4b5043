package state

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type storedEvent struct {
	at, received time.Time
	body         string
}

func events(t *testing.T, s *Store, ns, id string) []storedEvent {
	t.Helper()
	var out []storedEvent
	err := s.Events(ctx, ns, id, func(at, received time.Time, body []byte) error {
		out = append(out, storedEvent{at, received, string(body)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStore_EventsOrderedAndIdempotent(t *testing.T) {
	t.Parallel()
	s := open(t)
	t0 := time.Date(2024, 8, 27, 17, 0, 0, 0, time.UTC)
	add := func(id string, at time.Duration, digest, body string) bool {
		t.Helper()
		added, err := s.AddEvent(ctx, "ccai", id, t0.Add(at), t0.Add(time.Hour), digest, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !add("208", 2*time.Second, "d2", "second") || !add("208", time.Second, "d1", "first") {
		t.Fatal("new events not added")
	}
	if add("208", 2*time.Second, "d2", "second") {
		t.Error("a repeated event was stored again")
	}
	add("208", time.Second, "d1b", "first, received later") // a tie: arrival order
	add("209", 0, "d2", "same digest, other chat")
	add("208", 0, "x", "earliest")
	s.AddEvent(ctx, "other", "208", t0, t0, "x", []byte("not ccai"))
	got := events(t, s, "ccai", "208")
	var bodies []string
	for _, e := range got {
		bodies = append(bodies, e.body)
	}
	if want := "earliest|first|first, received later|second"; strings.Join(bodies, "|") != want {
		t.Errorf("events in order %q, want %q", strings.Join(bodies, "|"), want)
	}
	if !got[1].at.Equal(t0.Add(time.Second)) || !got[1].received.Equal(t0.Add(time.Hour)) {
		t.Errorf("times %v, %v", got[1].at, got[1].received)
	}
	if n, _ := s.CountEvents(ctx, "ccai"); n != 5 {
		t.Errorf("%d events stored in ccai, want 5", n)
	}
}

func TestStore_EventsSinceAndPrune(t *testing.T) {
	t.Parallel()
	s := open(t)
	t0 := time.Date(2024, 8, 27, 17, 0, 0, 0, time.UTC)
	for i, id := range []string{"1", "2", "2", "3"} {
		rcv := t0.Add(time.Duration(i) * time.Minute)
		if _, err := s.AddEvent(ctx, "ccai", id, t0, rcv, fmt.Sprint(i), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]time.Time{}
	err := s.EventsSince(ctx, "ccai", t0.Add(time.Minute), func(id string, last time.Time) error {
		got[id] = last
		return nil
	})
	if err != nil || len(got) != 2 || !got["2"].Equal(t0.Add(2*time.Minute)) || !got["3"].Equal(t0.Add(3*time.Minute)) {
		t.Errorf("since: %v, %v", got, err)
	}
	if _, err := s.PruneClosed(ctx, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountEvents(ctx, "ccai"); n != 2 {
		t.Errorf("%d events after pruning, want 2", n)
	}
}

// TestOpen_MigratesSchema7 opens a file of the schema before events were
// stored and finds its sessions intact and the event table usable.
func TestOpen_MigratesSchema7(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "acme.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range mustMigrations()[:7] {
		body, _ := migrationFS.ReadFile(name)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1))
	}
	if _, err := db.Exec(`INSERT INTO sessions (session_id, card_id, cursor, stored, first_seen_at) VALUES ('208', '100', 't', 3, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, ok, err := s.Session(ctx, "208"); !ok || err != nil || got.Cursor != "t" || got.Stored != 3 {
		t.Fatalf("migrated session %+v, %v, %v", got, ok, err)
	}
	if _, err := s.AddEvent(ctx, "ccai", "208", time.Unix(1, 0), time.Unix(2, 0), "d", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got := events(t, s, "ccai", "208"); len(got) != 1 {
		t.Errorf("events after migration: %v", got)
	}
}

// Events are committed through the connection that syncs every commit to
// the disk (an accepted event must survive a power loss); the rest of the
// state keeps synchronous=NORMAL, which survives a crash of the process.
func TestStore_EventsCommitWithSynchronousFull(t *testing.T) {
	t.Parallel()
	s := open(t)
	var durable, normal int
	if err := s.durable.QueryRow(`PRAGMA synchronous`).Scan(&durable); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(`PRAGMA synchronous`).Scan(&normal); err != nil {
		t.Fatal(err)
	}
	if durable != 2 || normal != 1 {
		t.Errorf("synchronous: events %d, state %d; want 2 (FULL) and 1 (NORMAL)", durable, normal)
	}
	if _, err := s.AddEvent(ctx, "ccai", "c1", time.Unix(1, 0), time.Unix(2, 0), "d", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountEvents(ctx, "ccai"); err != nil || n != 1 {
		t.Errorf("events after AddEvent: %d, %v", n, err)
	}
}
