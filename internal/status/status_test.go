package status

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/state"
)

func TestRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "acme.db")
	if got := Read(ctx, "acme", path, Options{Runs: 5}); !got.NoState || got.Error != "" {
		t.Fatalf("no file yet: %+v", got)
	}
	s, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.Track(ctx, "ws-1", "100")
	s.Track(ctx, "ws-2", "101")
	s.RecordFailure(ctx, "ws-1", "chat session not found", now.Add(time.Minute))
	s.RecordDeferred(ctx, "ws-2", "esm patch: 503")
	id, _ := s.StartRun(ctx, "sync")
	s.FinishRun(ctx, state.Run{ID: id, Sessions: 2, Failed: 2, Skipped: 1})
	id, _ = s.StartRun(ctx, "sync")
	s.FinishRun(ctx, state.Run{ID: id, Error: "esm login refused"})
	s.Close()

	got := Read(ctx, "acme", path, Options{Runs: 5, Now: now})
	if got.Error != "" || got.Sessions != (Counts{Tracked: 2, Active: 2, Failing: 2, BackingOff: 1}) {
		t.Fatalf("status %+v", got)
	}
	if len(got.Failing) != 2 || got.Failing[0].NextAttempt == nil || got.Failing[1].NextAttempt != nil ||
		got.Failing[1].Deferrals != 1 {
		t.Errorf("failing %+v", got.Failing)
	}
	if len(got.Runs) != 2 || got.Runs[0].Error == "" || got.Runs[1].Skipped != 1 {
		t.Errorf("runs %+v", got.Runs)
	}
	if got.LastOK == nil || !got.LastOK.Equal(now) {
		t.Errorf("last successful pass %v, want %v", got.LastOK, now)
	}
	b, _ := json.Marshal(got)
	for _, want := range []string{`"tenant":"acme"`, `"backing_off":1`, `"recent_runs":[`, `"deferrals":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}
