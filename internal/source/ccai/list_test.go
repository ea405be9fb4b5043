package ccai_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/ccai"
	"github.com/syncworker/syncworker/internal/state"
)

// Backfill lists the chats whose transcript landed in the window (by the
// file's time) and those whose events were received in it, each once;
// files that are not a chat's transcript are passed over.
func TestListSessions_TranscriptsAndEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := t.TempDir()
	c, err := ccai.New(ccai.Options{BaseURL: "http://127.0.0.1:1/apps/api/v1", Subdomain: "acme", Token: "tok",
		TranscriptsDir: dir, Cache: store})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	until := since.Add(30 * 24 * time.Hour)
	file := func(name string, at time.Time) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(`{"comm_type":"chat","entries":[]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	file("101.json", since.Add(time.Hour))                                  // in the window
	file("102.json", since.Add(-time.Hour))                                 // before it
	file("103.json", until)                                                 // after it (until is exclusive)
	file("104.json", since.Add(2*time.Hour))                                // in it, and has events too
	file("0105.json", since.Add(time.Hour))                                 // not a name the adapter reads
	file("notes.txt", since.Add(time.Hour))                                 // not a transcript
	if err := os.Mkdir(filepath.Join(dir, "106.json"), 0o700); err != nil { // a directory
		t.Fatal(err)
	}
	event := func(id string, received time.Time) {
		t.Helper()
		if _, err := store.AddEvent(ctx, ccai.Namespace, id, received, received, id+received.String(), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	event("104", since.Add(3*time.Hour))
	event("201", since.Add(4*time.Hour))  // events only
	event("202", since.Add(-time.Minute)) // before the window

	var got []string
	err = c.ListSessions(ctx, since, until, func(l source.Listed) error {
		got = append(got, l.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"101", "104", "201"}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}

	os.RemoveAll(dir)
	if err := c.ListSessions(ctx, since, until, func(source.Listed) error { return nil }); err == nil {
		t.Error("a missing transcripts_dir listed without an error")
	}
}
