package status

import (
	"context"
	"encoding/json"
	"errors"
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

	got := Read(ctx, "acme", path, Options{Runs: 5, Now: now.Add(90 * time.Second)})
	if got.Error != "" || got.Sessions == nil || *got.Sessions != (Counts{Tracked: 2, Active: 2, Failing: 2, BackingOff: 1}) {
		t.Fatalf("status %+v", got)
	}
	if len(got.Failing) != 2 || got.Failing[0].NextAttempt != nil || got.Failing[1].NextAttempt != nil ||
		got.Failing[1].Deferrals != 1 {
		t.Errorf("failing %+v", got.Failing)
	}
	if len(got.Runs) != 2 || got.Runs[0].Error == "" || got.Runs[1].Skipped != 1 ||
		got.Runs[0].Result != "fatal" || got.Runs[1].Result != "partial" {
		t.Errorf("runs %+v", got.Runs)
	}
	if got.LastOK == nil || !got.LastOK.Equal(now) || got.LastOKAge == nil || *got.LastOKAge != 90 {
		t.Errorf("last successful pass %v, age %v; want %v, 90 s", got.LastOK, got.LastOKAge, now)
	}
	// Read at a time before the back-off ends: the next attempt is shown.
	if early := Read(ctx, "acme", path, Options{Runs: 5, Now: now}); early.Failing[0].NextAttempt == nil ||
		FormatTime(*early.Failing[0].NextAttempt) != "2024-06-03T12:01:00Z" {
		t.Errorf("failing before the back-off ends: %+v", early.Failing[0])
	}
	b, _ := json.Marshal(got)
	for _, want := range []string{`"tenant":"acme"`, `"backing_off":1`, `"recent_runs":[`, `"deferrals":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

func TestRead_Unusable(t *testing.T) {
	dir := t.TempDir()
	got := Read(context.Background(), "acme", dir, Options{Runs: 5})
	if got.Error == "" || !strings.Contains(got.Error, "read-only") || got.Sessions != nil {
		t.Errorf("a directory as the state: %+v", got)
	}
	u := Unloaded("acme.yaml", errors.New("acme.yaml:3: unknown key"))
	if u.Label() != "acme.yaml" || u.Name != "" || !strings.Contains(u.Error, "unknown key") {
		t.Errorf("unloaded %+v", u)
	}
	b, _ := json.Marshal(u)
	if strings.Contains(string(b), `"sessions"`) || !strings.Contains(string(b), `"file":"acme.yaml"`) {
		t.Errorf("unloaded JSON %s", b)
	}
}

func TestFormat(t *testing.T) {
	helsinki := time.FixedZone("EEST", 3*3600)
	if got := FormatTime(time.Date(2024, 6, 3, 12, 0, 0, 700e6, helsinki)); got != "2024-06-03T09:00:00Z" {
		t.Errorf("FormatTime = %s", got)
	}
	for _, c := range []struct {
		in   time.Duration
		want string
	}{{1500 * time.Millisecond, "2s"}, {3*time.Minute + 12*time.Second, "3m12s"}, {47 * time.Hour, "47h0m0s"}, {50 * time.Hour, "2d"}} {
		if got := FormatAge(c.in); got != c.want {
			t.Errorf("FormatAge(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}
