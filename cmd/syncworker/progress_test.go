package main

import (
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// jsonLines decodes every JSON log line of stderr whose msg is msg.
func jsonLines(t *testing.T, stderr, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, l)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestBackfill_ProgressLogLines: without a terminal, backfill logs each
// tenant's progress (done of found, rate, ETA) every interval, logs when it
// starts, and logs its summary with the duration in seconds.
func TestBackfill_ProgressLogLines(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 12, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	unlimited(t, file)
	var errs lockedBuffer
	// The first write waits until a progress line with a found session
	// has been logged, so that one is logged mid-backfill however fast
	// the machine is.
	found := regexp.MustCompile(`"msg":"backfill progress".*"found":[1-9]`)
	p := &Program{progressEvery: time.Millisecond, Hooks: engine.Hooks{AfterPatch: func(string) error {
		waitUntil(t, "a progress line", func() bool { return found.MatchString(errs.String()) })
		return nil
	}}}
	var out lockedBuffer
	p.Stdout, p.Stderr = &out, &errs
	code := p.Run(t.Context(), nil, []string{"backfill", "-config", file, "-since", "2000-01-01", "-log-format", "json"})
	if code != exitOK {
		t.Fatalf("backfill: exit %d\n%s", code, errs.String())
	}
	if len(jsonLines(t, errs.String(), "backfill starting")) != 1 {
		t.Errorf("no backfill starting line:\n%s", errs.String())
	}
	progress := jsonLines(t, errs.String(), "backfill progress")
	if len(progress) == 0 {
		t.Fatalf("no progress line:\n%s", errs.String())
	}
	var first map[string]any
	for _, l := range progress {
		if l["found"].(float64) >= 1 {
			first = l
			break
		}
	}
	if first == nil {
		t.Fatalf("no progress line with a found session:\n%s", errs.String())
	}
	for _, key := range []string{"tenant", "done", "found", "rate_per_second", "listing_ended"} {
		if _, ok := first[key]; !ok {
			t.Errorf("progress line lacks %s: %v", key, first)
		}
	}
	if first["tenant"] != "acme" || first["found"].(float64) < 1 || first["done"].(float64) >= first["found"].(float64)+1 {
		t.Errorf("progress line %v: want acme, found ≥ 1, done ≤ found", first)
	}
	for _, l := range progress {
		if eta, ok := l["eta"]; ok && eta.(float64) > 3600 {
			t.Errorf("eta %v: want seconds", eta)
		}
	}
	sums := jsonLines(t, errs.String(), "pass finished")
	if len(sums) != 1 {
		t.Fatalf("%d pass finished lines, want 1:\n%s", len(sums), errs.String())
	}
	s := sums[0]
	if s["kind"] != "backfill" || s["sessions"].(float64) != 12 || s["result"] != "ok" {
		t.Errorf("summary %v", s)
	}
	if d, ok := s["duration"].(float64); !ok || d <= 0 || d > 60 {
		t.Errorf("summary duration %v: want seconds as a float", s["duration"])
	}
}

// TestBackfill_ProgressBarOnATerminal: on a terminal, backfill draws a
// progress bar (done of found, rate, time left) and logs no progress lines.
func TestBackfill_ProgressBarOnATerminal(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 10, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	unlimited(t, file)
	p := &Program{progressEvery: time.Millisecond, terminal: func(io.Writer) bool { return true }}
	r := runProgram(p, []string{"backfill", "-config", file, "-since", "2000-01-01"})
	if r.code != exitOK {
		t.Fatalf("backfill: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"backfill acme", "/10, ", "sessions/s", "\r"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%q", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "backfill progress") {
		t.Errorf("progress log lines beside the bar:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "tenant=acme sessions=10 written=10") {
		t.Errorf("stdout %q", r.stdout)
	}
}

// TestProgress_ETA: the progress line's rate and ETA, with an injected clock.
func TestProgress_ETA(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var errs lockedBuffer
	p := &Program{Now: func() time.Time { return now }, progressEvery: time.Hour, Stderr: &errs}
	p.logger, _ = newLogger(&errs, "text", "info")
	bp := p.startProgress([]string{"acme", "beta"})
	a := bp.of("acme")
	for range 40 {
		a.Found()
	}
	for range 10 {
		a.Done()
	}
	a.Listed()
	bp.of("beta").Found()
	now = now.Add(5 * time.Second)
	bp.log()
	bp.stop()
	for _, want := range []string{
		`msg="backfill progress" tenant=acme done=10 found=40 listing_ended=true rate_per_second=2 eta=15s`,
		`msg="backfill progress" tenant=beta done=0 found=1 listing_ended=false rate_per_second=0`,
	} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, errs.String())
		}
	}
}
