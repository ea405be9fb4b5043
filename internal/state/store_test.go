package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

var ctx = context.Background()

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "nested", "dir", "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msgs(seqs ...int64) []aggregate.Message {
	var out []aggregate.Message
	for _, n := range seqs {
		out = append(out, aggregate.Message{Seq: n, SentAt: time.Unix(n, 0).UTC(), Text: "m",
			Sender: aggregate.Sender{Type: aggregate.SenderVisitor, Name: "Maija"}})
	}
	return out
}

func TestOpen_CreatesAndMigrates(t *testing.T) {
	s := open(t)
	var version int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != len(mustMigrations()) {
		t.Fatalf("user_version = %d, %v; want %d", version, err, len(mustMigrations()))
	}
	var mode string
	s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("integrity_check = %q, %v", res, err)
	}
}

func TestOpen_SecondProcessIsLockedOut(t *testing.T) {
	s := open(t)
	_, err := Open(s.Path())
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("second Open: %v, want ErrLocked naming %s", err, s.Path())
	}
	host, _ := os.Hostname()
	for _, want := range []string{fmt.Sprintf("held by the process with pid=%d host=%q", os.Getpid(), host), "since=", "Stop that process first"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open: %v\nlacks %q", err, want)
		}
	}
	s.Close()
	s2, err := Open(s.Path())
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestOpen_NotSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.db")
	os.WriteFile(path, []byte(strings.Repeat("this is not a database\n", 100)), 0o600)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a syncworker state database") {
		t.Fatalf("err = %v, want a clear error naming %s", err, path)
	}
	if !strings.Contains(err.Error(), "To recover, stop every syncworker using it and move the file aside") {
		t.Errorf("err = %v, want how to recover", err)
	}
}

func TestOpen_NewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(`PRAGMA user_version = 99`)
	db.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("err = %v, want refusal of a newer schema", err)
	}
}

// TestOpen_MigratesOlderSchema opens a file written by the first schema, as
// an older syncworker left it, and finds its data intact and migrated.
func TestOpen_MigratesOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := migrationFS.ReadFile("migrations/0001_init.sql")
	for _, stmt := range []string{string(v1), `PRAGMA user_version = 1`,
		`INSERT INTO sessions (session_id, card_id, last_seq, first_seen_at) VALUES ('ws-1', '100', 7, 1)`,
		// A message as schema 1 to 4 stored it: the generic platform's JSON.
		`INSERT INTO messages (session_id, seq, body) VALUES ('ws-1', 7, '{"seq":7,"id":"m-7","sent_at":"2024-06-03T09:02:10Z","sender":{"type":"visitor","id":"u-9","name":"Maija","email":"maija@example.com"},"live_chat_id":"lc-1","text":"my VPN is down"}')`,
		`INSERT INTO meta (key, value) VALUES ('watermark', '2024-06-03T09:00:00Z')`} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.Session(ctx, "ws-1")
	if !ok || err != nil || got.Cursor != "7" || got.Stored != 7 || got.Pending || !got.StartedAt.IsZero() {
		t.Fatalf("migrated session = %+v, %v, %v", got, ok, err)
	}
	msgs, err := s.Messages(ctx, "ws-1")
	want := aggregate.Message{Seq: 7, ID: "m-7", SentAt: time.Date(2024, 6, 3, 9, 2, 10, 0, time.UTC), LiveChatID: "lc-1",
		Text: "my VPN is down", Sender: aggregate.Sender{Type: aggregate.SenderVisitor, ID: "u-9", Name: "Maija", Email: "maija@example.com"}}
	if err != nil || len(msgs) != 1 || !reflect.DeepEqual(msgs[0], want) {
		t.Errorf("migrated messages = %+v, %v", msgs, err)
	}
	if w, _ := s.Watermark(ctx, "generic"); !w.Equal(time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("migrated watermark = %v", w)
	}
	var version int
	s.db.QueryRow(`PRAGMA user_version`).Scan(&version)
	if version != len(mustMigrations()) {
		t.Errorf("user_version = %d after migration", version)
	}
}

func TestOpen_ParentIsAFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	path := filepath.Join(dir, "file", "acme.db")
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an error naming %s", err, path)
	}
}

func TestStore_TrackAndCommit(t *testing.T) {
	s := open(t)
	if _, ok, err := s.Session(ctx, "ws-1"); ok || err != nil {
		t.Fatalf("untracked session: ok=%v err=%v", ok, err)
	}
	if err := s.Track(ctx, "ws-1", "100"); err != nil {
		t.Fatal(err)
	}
	upd := time.Date(2024, 6, 3, 9, 7, 0, 123, time.UTC)
	err := s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(1, 2, 3), Cursor: "c3", UpdatedAt: upd,
		Written: map[string]string{"chat_log": "h1", "message_count": "h2"}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(4), Cursor: "c4", Written: map[string]string{"chat_log": "h3"}, UpdatedAt: upd})
	if err != nil {
		t.Fatal(err)
	}
	// Tracking again (a card seen again in discovery) keeps the cursor.
	if err := s.Track(ctx, "ws-1", "100"); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Session(ctx, "ws-1")
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if got.Cursor != "c4" || got.Stored != 4 || got.CardID != "100" || !got.UpdatedAt.Equal(upd) || got.Done {
		t.Errorf("session = %+v", got)
	}
	if want := map[string]string{"chat_log": "h3", "message_count": "h2"}; !reflect.DeepEqual(got.Written, want) {
		t.Errorf("Written = %v, want %v", got.Written, want)
	}
	stored, err := s.Messages(ctx, "ws-1")
	if err != nil || len(stored) != 4 || stored[3].Seq != 4 || stored[0].Sender.Name != "Maija" {
		t.Fatalf("Messages = %+v, %v", stored, err)
	}
	// A re-done commit after a crash (same messages again) is harmless.
	if err := s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(3, 4), Cursor: "c4"}); err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.Messages(ctx, "ws-1"); len(stored) != 4 {
		t.Errorf("%d messages after a repeated commit, want 4", len(stored))
	}
}

func TestStore_CommitDoneDropsTranscript(t *testing.T) {
	s := open(t)
	s.Track(ctx, "ws-1", "100")
	if err := s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(1, 2), Cursor: "c2", Done: true}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Session(ctx, "ws-1")
	stored, _ := s.Messages(ctx, "ws-1")
	if !got.Done || got.Cursor != "c2" || len(stored) != 0 {
		t.Errorf("done=%v cursor=%q messages=%d; want true, c2, 0", got.Done, got.Cursor, len(stored))
	}
}

func TestStore_CommitUntracked(t *testing.T) {
	s := open(t)
	if err := s.Commit(ctx, Commit{ID: "ws-404"}); err == nil {
		t.Fatal("commit of an untracked session succeeded")
	}
}

func TestStore_FailuresAndCounts(t *testing.T) {
	s := open(t)
	for _, id := range []string{"a", "b", "c"} {
		s.Track(ctx, id, "card-"+id)
	}
	next := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for want := 1; want <= 2; want++ {
		n, err := s.RecordFailure(ctx, "a", "fetch session a: session not found", next)
		if err != nil || n != want {
			t.Fatalf("RecordFailure = %d, %v; want %d", n, err, want)
		}
	}
	got, _, _ := s.Session(ctx, "a")
	if got.Failures != 2 || !got.NextAttempt.Equal(next) || got.LastError != "fetch session a: session not found" {
		t.Errorf("session a = %+v", got)
	}
	s.Commit(ctx, Commit{ID: "b", Done: true})
	c, err := s.Counts(ctx)
	if err != nil || c != (Counts{Tracked: 3, Active: 2, Ended: 1, Failing: 1, BackingOff: 1}) {
		t.Errorf("Counts = %+v, %v", c, err)
	}
	// A successful commit clears the failure.
	s.Commit(ctx, Commit{ID: "a"})
	if got, _, _ := s.Session(ctx, "a"); got.Failures != 0 || got.LastError != "" || !got.NextAttempt.IsZero() {
		t.Errorf("after commit: %+v", got)
	}
	if _, err := s.RecordFailure(ctx, "zzz", "x", next); err == nil {
		t.Error("RecordFailure of an untracked session succeeded")
	}
}

func TestStore_DeferredUntilCommit(t *testing.T) {
	s := open(t)
	s.Track(ctx, "ws-1", "100")
	if _, err := s.RecordDeferred(ctx, "ws-1", "status 503"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Session(ctx, "ws-1"); !got.Pending || got.Failures != 0 || got.LastError != "status 503" {
		t.Errorf("deferred: %+v", got)
	}
	start := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	s.Commit(ctx, Commit{ID: "ws-1", StartedAt: start})
	if got, _, _ := s.Session(ctx, "ws-1"); got.Pending || !got.StartedAt.Equal(start) {
		t.Errorf("after commit: %+v", got)
	}
}

func TestStore_Drop(t *testing.T) {
	s := open(t)
	s.Track(ctx, "ws-1", "100")
	s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(1, 2)})
	if err := s.Drop(ctx, "ws-1"); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM messages`).Scan(&n)
	if _, ok, _ := s.Session(ctx, "ws-1"); ok || n != 0 {
		t.Errorf("after Drop: tracked=%v, %d messages left", ok, n)
	}
}

func TestStore_People(t *testing.T) {
	s := open(t)
	now := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	if _, ok, _ := s.Person(ctx, "ann@example.com"); ok {
		t.Fatal("unknown person found")
	}
	s.PutPerson(ctx, "ann@example.com", "7")
	s.PutPerson(ctx, "ghost@example.com", "")
	p, ok, err := s.Person(ctx, "ann@example.com")
	if !ok || err != nil || p.CardID != "7" || !p.CheckedAt.Equal(now) {
		t.Errorf("Person = %+v, %v, %v", p, ok, err)
	}
	if p, ok, _ := s.Person(ctx, "ghost@example.com"); !ok || p.CardID != "" {
		t.Errorf("unresolved person = %+v, %v", p, ok)
	}
	s.ForgetPerson(ctx, "ann@example.com")
	if _, ok, _ := s.Person(ctx, "ann@example.com"); ok {
		t.Error("forgotten person still cached")
	}
}

func TestStore_RunsAndMeta(t *testing.T) {
	s := open(t)
	id, err := s.StartRun(ctx, "once")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, Run{ID: id, Sessions: 12, Written: 4, Unchanged: 7, Ended: 2, Failed: 1}); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0].Kind != "once" || runs[0].Written != 4 || runs[0].Finished.IsZero() {
		t.Fatalf("Runs = %+v, %v", runs, err)
	}
	if v, _ := s.Meta(ctx, "watermark"); v != "" {
		t.Errorf("unset meta = %q", v)
	}
	s.SetMeta(ctx, "watermark", "2024-06-03T09:00:00Z")
	if v, _ := s.Meta(ctx, "watermark"); v != "2024-06-03T09:00:00Z" {
		t.Errorf("meta = %q", v)
	}
}

func TestStore_PersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Track(ctx, "ws-1", "100")
	s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(1), Cursor: "c1"})
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, ok, _ := s.Session(ctx, "ws-1"); !ok || got.Cursor != "c1" || got.Stored != 1 {
		t.Errorf("after reopen: %+v, %v", got, ok)
	}
}

func TestStore_OpenSessionsAndPruneClosed(t *testing.T) {
	s := open(t)
	now := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now.Add(-60 * 24 * time.Hour) })
	s.Track(ctx, "old-closed", "1")
	s.Commit(ctx, Commit{ID: "old-closed", NewMessages: msgs(1), Done: true})
	s.SetClock(func() time.Time { return now })
	for _, id := range []string{"new-closed", "open"} {
		s.Track(ctx, id, "2")
	}
	s.Commit(ctx, Commit{ID: "new-closed", Done: true})
	var open []string
	s.OpenSessions(ctx, func(ss Session) error { open = append(open, ss.ID); return nil })
	if !reflect.DeepEqual(open, []string{"open"}) {
		t.Errorf("OpenSessions = %v, want [open]", open)
	}
	var ids []string
	s.OpenSessionIDs(ctx, func(id, card string) error { ids = append(ids, id+"@"+card); return nil })
	if !reflect.DeepEqual(ids, []string{"open@2"}) {
		t.Errorf("OpenSessionIDs = %v, want [open@2]", ids)
	}
	n, err := s.PruneClosed(ctx, now.Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneClosed = %d, %v; want 1", n, err)
	}
	if _, ok, _ := s.Session(ctx, "old-closed"); ok {
		t.Error("old closed session still tracked")
	}
	for _, id := range []string{"new-closed", "open"} {
		if _, ok, _ := s.Session(ctx, id); !ok {
			t.Errorf("%s was pruned", id)
		}
	}
}

// A session moved to a new card must not take the old card's written
// values along: until its first write to the new card is committed, the
// new card must look unwritten, whatever happens in between.
func TestStore_TrackMovedCardForgetsWritten(t *testing.T) {
	s := open(t)
	s.Track(ctx, "ws-1", "100")
	upd := time.Date(2024, 6, 3, 9, 7, 0, 0, time.UTC)
	if err := s.Commit(ctx, Commit{ID: "ws-1", NewMessages: msgs(1, 2), Cursor: "c2", UpdatedAt: upd, FetchedAt: upd,
		Written: map[string]string{"chat_log": "h1"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Track(ctx, "ws-1", "200"); err != nil {
		t.Fatal(err)
	}
	// Read back as a new process would after a crash right here.
	got, _, _ := s.Session(ctx, "ws-1")
	if got.CardID != "200" || len(got.Written) != 0 || !got.UpdatedAt.IsZero() || !got.FetchedAt.IsZero() {
		t.Errorf("after the move: card %s written %v updated %v fetched %v; want card 200 and nothing known written",
			got.CardID, got.Written, got.UpdatedAt, got.FetchedAt)
	}
	if got.Cursor != "c2" || got.Stored != 2 {
		t.Errorf("the move reset the message cursor to %q (%d stored)", got.Cursor, got.Stored)
	}
}

// A card id belongs to one session: when discovery finds card 100 holding
// another session (ESM restored from a backup, ids reused), the session the
// state had on card 100 forgets what it wrote there.
func TestStore_TrackCardReusedByAnotherSession(t *testing.T) {
	s := open(t)
	s.Track(ctx, "ws-1", "100")
	s.Commit(ctx, Commit{ID: "ws-1", Written: map[string]string{"chat_log": "h1"}})
	if err := s.Track(ctx, "ws-2", "100"); err != nil {
		t.Fatal(err)
	}
	old, _, _ := s.Session(ctx, "ws-1")
	if old.CardID != "" || len(old.Written) != 0 {
		t.Errorf("ws-1 still holds card %q with %v", old.CardID, old.Written)
	}
	if err := s.Track(ctx, "ws-1", "300"); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := s.Session(ctx, "ws-1"); again.CardID != "300" || len(again.Written) != 0 {
		t.Errorf("ws-1 on card 300: %+v", again)
	}
}

func TestStore_DeferralsCountAsFailing(t *testing.T) {
	s := open(t)
	s.Track(ctx, "ws-1", "100")
	s.Track(ctx, "ws-2", "101")
	for i := 1; i <= 3; i++ {
		n, err := s.RecordDeferred(ctx, "ws-1", "esm patch card: status 503")
		if err != nil || n != i {
			t.Fatalf("deferral %d: n=%d err=%v", i, n, err)
		}
	}
	c, _ := s.Counts(ctx)
	if c.Failing != 1 || c.BackingOff != 0 {
		t.Errorf("counts %+v; want 1 failing, 0 backing off", c)
	}
	got, _, _ := s.Session(ctx, "ws-1")
	if !got.Failing() || got.Deferrals != 3 || got.LastError != "esm patch card: status 503" {
		t.Errorf("ws-1: %+v", got)
	}
	s.Commit(ctx, Commit{ID: "ws-1"})
	if got, _, _ := s.Session(ctx, "ws-1"); got.Failing() || got.LastError != "" {
		t.Errorf("after a commit: %+v", got)
	}
}

func TestStore_BindIdentity(t *testing.T) {
	s := open(t)
	id := Identity{ESM: "https://acme.efectecloud.com/rest-api/itsm/v1/", Template: "chat_session",
		Platform: "generic", Chat: "https://chat.example.com/api/v1"}
	if err := s.Bind(ctx, id); err != nil {
		t.Fatal(err)
	}
	same := id
	same.ESM = "https://ACME.efectecloud.com/rest-api/itsm/v1"
	if err := s.Bind(ctx, same); err != nil {
		t.Errorf("same systems spelled differently: %v", err)
	}
	other := id
	other.ESM = "https://test.efectecloud.com/rest-api/itsm/v1"
	err := s.Bind(ctx, other)
	var ie *IdentityError
	if !errors.As(err, &ie) {
		t.Fatalf("Bind to another ESM: %v, want *IdentityError", err)
	}
	for _, want := range []string{"esm.base_url", "acme.efectecloud.com", "test.efectecloud.com", "-reset-state", "state_path"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	s.Track(ctx, "ws-1", "100")
	s.Commit(ctx, Commit{ID: "ws-1", Written: map[string]string{"chat_log": "h1"}})
	s.PutPerson(ctx, "ann@example.com", "7")
	s.SetMeta(ctx, "watermark", "2024-06-03T09:00:00Z")
	if err := s.Reset(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(ctx, other); err != nil {
		t.Errorf("after Reset: %v", err)
	}
	if _, ok, _ := s.Session(ctx, "ws-1"); ok {
		t.Error("Reset kept a session")
	}
	if _, ok, _ := s.Person(ctx, "ann@example.com"); ok {
		t.Error("Reset kept a cached person")
	}
	if w, _ := s.Meta(ctx, "watermark"); w != "" {
		t.Errorf("Reset kept the watermark %q", w)
	}
}

func TestOpen_StateFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Track(ctx, "ws-1", "100") // makes SQLite write the WAL
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	s.Close()
	// A file made world-readable (by an older syncworker) is tightened.
	os.Chmod(path, 0o644)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("reopened file has mode %04o, want 0600", fi.Mode().Perm())
	}
}

// TestOpen_MigratesFileOfLastRelease opens a state file that the last
// released syncworker (schema 3) wrote after one pass over 12 sandbox
// sessions of 6 messages, half of them ended, and finds it whole.
func TestOpen_MigratesFileOfLastRelease(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "schema3.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sandbox.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var open, done int
	err = s.Sessions(ctx, func(ss Session) error {
		if ss.Cursor != "6" || ss.Stored != 6 || len(ss.Written) == 0 || ss.CardID == "" {
			t.Errorf("migrated %s: cursor %q, %d stored, %d written, card %q", ss.ID, ss.Cursor, ss.Stored, len(ss.Written), ss.CardID)
		}
		if ss.Done {
			done++
			return nil
		}
		open++
		msgs, err := s.Messages(ctx, ss.ID)
		if err != nil || len(msgs) != 6 {
			t.Fatalf("messages of %s: %d, %v", ss.ID, len(msgs), err)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) || m.SentAt.IsZero() || m.Text == "" || !m.Sender.Type.Known() {
				t.Errorf("message %d of %s: %+v", i, ss.ID, m)
			}
		}
		return nil
	})
	if err != nil || open != 6 || done != 6 {
		t.Fatalf("sessions: %d open, %d done, %v; want 6 and 6", open, done, err)
	}
	if w, err := s.Watermark(ctx, "generic"); err != nil || w.IsZero() {
		t.Errorf("watermark of the generic platform: %v, %v", w, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o after opening, want 0600", fi.Mode().Perm())
	}
}

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "acme.db")
	if err := Probe(path); err != nil {
		t.Fatalf("Probe of a path that can be created: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("Probe created the directory (or: %v)", err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Probe(path); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid=%d", os.Getpid())) {
		t.Errorf("Probe of a held file: %v, want ErrLocked naming this process", err)
	}
	s.Close()
	if err := Probe(path); err != nil {
		t.Errorf("Probe after Close: %v", err)
	}
	if s, err := Open(path); err != nil {
		t.Errorf("Open after Probe: %v", err)
	} else {
		s.Close()
	}
	if err := Probe(filepath.Join(path, "x.db")); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("Probe below a file: %v", err)
	}
}

// A lock released a moment after Open tries it is taken, not refused: the
// release can lag (a child process forked elsewhere in the worker holds a
// copy of the descriptor until it execs).
func TestOpen_WaitsBrieflyForAReleasedLock(t *testing.T) {
	t.Parallel()
	first := open(t)
	released := make(chan struct{})
	go func() {
		time.Sleep(50 * time.Millisecond) // the lag being tolerated, not synchronisation
		first.Close()
		close(released)
	}()
	second, err := Open(first.Path())
	if err != nil {
		t.Fatalf("Open while the lock was being released: %v", err)
	}
	second.Close()
	<-released
}
