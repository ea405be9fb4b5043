package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestOnce_MetricsFileKeepsLastSuccessAfterFatalPass: each cron run is a
// new process; when its pass is fatal, the text file must still carry the
// time of the last good pass (from the state), or the alert on its age
// would lose the series just when it matters.
func TestOnce_MetricsFileKeepsLastSuccessAfterFatalPass(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 3, sandbox.Options{})
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "")
	unlimited(t, file)
	prom := filepath.Join(dir, "syncworker.prom")
	if r := run(t, "once", "-config", file, "-metrics-file", prom); r.code != exitOK {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	good := gauge(t, parseMetricsFile(t, prom), "syncworker_last_success_timestamp_seconds")
	if good <= 0 {
		t.Fatalf("last success after a good pass: %v", good)
	}
	wrongPassword(t, file)
	if r := run(t, "once", "-config", file, "-metrics-file", prom); r.code != exitFatal {
		t.Fatalf("once with a refused password: exit %d, want 3\n%s", r.code, r.stderr)
	}
	mfs := parseMetricsFile(t, prom)
	if got := gauge(t, mfs, "syncworker_last_success_timestamp_seconds"); math.Abs(got-good) > 1 {
		t.Errorf("last success after a fatal pass: %v, want the good pass's %v", got, good)
	}
	// The SyncworkerFatalPass alert (deploy/prometheus) compares the two.
	if last := gauge(t, mfs, "syncworker_last_pass_timestamp_seconds"); last <= good {
		t.Errorf("last pass %v is not after the last success %v", last, good)
	}
	fatal := mfs["syncworker_passes_total"].sum(map[string]string{"result": "fatal"})
	if fatal != 1 {
		t.Errorf("passes_total{result=fatal} = %v, want 1", fatal)
	}
}

// gauge is the value of the family's one series; 0 when it is missing.
func gauge(t *testing.T, mfs map[string]*dtoFamily, name string) float64 {
	t.Helper()
	f := mfs[name]
	if f == nil || len(f.samples) != 1 {
		t.Logf("%s is not one series: %+v", name, f)
		return 0
	}
	return f.samples[0].value
}
