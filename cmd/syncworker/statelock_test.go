package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// holdState opens the tenant's state file as another syncworker process
// would, until the test ends.
func holdState(t *testing.T, path string) *state.Store {
	t.Helper()
	held, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })
	return held
}

// TestOnce_LockedStateInMetricsFile: a tenant whose state another process
// holds is refused (exit 3), and the text-file metrics say so, for it
// alone: the gauge is 1 with reason locked, the counter counted the
// refusal, and the healthy tenant's gauge is 0.
func TestOnce_LockedStateInMetricsFile(t *testing.T) {
	t.Parallel()
	good, goodAddr := newSandbox(t, 4, sandbox.Options{})
	other, otherAddr := newSandbox(t, 4, sandbox.Options{})
	dir := t.TempDir()
	unlimited(t, writeConfig(t, dir, "good", goodAddr, ""))
	unlimited(t, writeConfig(t, dir, "held", otherAddr, ""))
	holdState(t, filepath.Join(dir, "held.db"))
	prom := filepath.Join(t.TempDir(), "syncworker.prom")

	r := run(t, "once", "-config", dir, "-metrics-file", prom)
	if r.code != exitFatal || !strings.Contains(line(r.stdout, "tenant=held "), "in use by another syncworker process") {
		t.Fatalf("once: exit %d, want 3 with the lock named\n%s%s", r.code, r.stdout, r.stderr)
	}
	if good.Count(sandbox.RoutePatchCard) == 0 || len(other.Requests()) != 0 {
		t.Errorf("writes for the good tenant: %d; requests for the held one: %d",
			good.Count(sandbox.RoutePatchCard), len(other.Requests()))
	}
	m := parseMetricsFile(t, prom)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"syncworker_state_unavailable", map[string]string{"tenant": "held", "reason": "locked"}, 1},
		{"syncworker_state_unavailable", map[string]string{"tenant": "held", "reason": "unusable"}, 0},
		{"syncworker_state_locked_total", map[string]string{"tenant": "held"}, 1},
		{"syncworker_state_unavailable", map[string]string{"tenant": "good", "reason": "locked"}, 0},
		{"syncworker_state_locked_total", map[string]string{"tenant": "good"}, 0},
		{"syncworker_passes_total", map[string]string{"tenant": "good", "result": "ok"}, 1},
	} {
		if got := m[c.name].sum(c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if m["syncworker_state_unavailable"].sum(map[string]string{"tenant": "good"}) != 0 ||
		len(m["syncworker_state_unavailable"].samples) != 4 {
		t.Errorf("state_unavailable samples: %+v", m["syncworker_state_unavailable"].samples)
	}
}

// TestRun_LockedStateInMetrics scrapes /metrics of a run whose one
// tenant's state is held: the gauge is 1, and the counter counted the
// refusals (at start-up, and at the first pass's attempt to open it).
func TestRun_LockedStateInMetrics(t *testing.T) {
	t.Parallel()
	_, goodAddr := newSandbox(t, 4, sandbox.Options{})
	_, heldAddr := newSandbox(t, 4, sandbox.Options{})
	dir := t.TempDir()
	unlimited(t, writeConfig(t, dir, "good", goodAddr, ""))
	unlimited(t, writeConfig(t, dir, "held", heldAddr, ""))
	holdState(t, filepath.Join(dir, "held.db"))

	addr, out, stop := listeningRun(t, "-config", dir)
	defer stop()
	waitFor(t, 30*time.Second, "the first passes", func() bool {
		return line(out.String(), "tenant=good ") != "" && line(out.String(), "tenant=held ") != ""
	})
	m := scrape(t, addr)
	if got := m["syncworker_state_unavailable"].sum(map[string]string{"tenant": "held", "reason": "locked"}); got != 1 {
		t.Errorf("state_unavailable{held,locked} = %v, want 1", got)
	}
	if got := m["syncworker_state_locked_total"].sum(map[string]string{"tenant": "held"}); got < 1 {
		t.Errorf("state_locked_total{held} = %v, want at least 1", got)
	}
	if got := m["syncworker_state_locked_total"].sum(map[string]string{"tenant": "good"}); got != 0 {
		t.Errorf("state_locked_total{good} = %v, want 0", got)
	}
	// A tenant that cannot be synced makes the worker not ready, saying
	// why, at once rather than after two of its schedules.
	code, body := get(t, addr, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "tenant held: ") ||
		!strings.Contains(body, "in use by another syncworker process") || strings.Contains(body, "tenant good") {
		t.Errorf("/readyz: %d %q", code, body)
	}
	if code := stop(); code != exitOK {
		t.Errorf("run exited %d", code)
	}
}

// parseMetricsFile parses a -metrics-file with the exposition library's
// own parser, into the same shape as scrape.
func parseMetricsFile(t *testing.T, path string) map[string]*dtoFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return parseExposition(t, path, f)
}
