package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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
	good := gauge(t, readProm(t, prom), "syncworker_last_success_timestamp_seconds")
	if good <= 0 {
		t.Fatalf("last success after a good pass: %v", good)
	}
	wrongPassword(t, file)
	if r := run(t, "once", "-config", file, "-metrics-file", prom); r.code != exitFatal {
		t.Fatalf("once with a refused password: exit %d, want 3\n%s", r.code, r.stderr)
	}
	mfs := readProm(t, prom)
	if got := gauge(t, mfs, "syncworker_last_success_timestamp_seconds"); math.Abs(got-good) > 1 {
		t.Errorf("last success after a fatal pass: %v, want the good pass's %v", got, good)
	}
	// The SyncworkerFatalPass alert (deploy/prometheus) compares the two.
	if last := gauge(t, mfs, "syncworker_last_pass_timestamp_seconds"); last <= good {
		t.Errorf("last pass %v is not after the last success %v", last, good)
	}
	fatal := 0.0
	for _, m := range mfs["syncworker_passes_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "result" && l.GetValue() == "fatal" {
				fatal += m.GetCounter().GetValue()
			}
		}
	}
	if fatal != 1 {
		t.Errorf("passes_total{result=fatal} = %v, want 1", fatal)
	}
}

func readProm(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return mfs
}

// gauge is the value of the family's one gauge; 0 when it is missing.
func gauge(t *testing.T, mfs map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	ms := mfs[name].GetMetric()
	if len(ms) != 1 {
		t.Logf("%s has %d series", name, len(ms))
		return 0
	}
	return ms[0].GetGauge().GetValue()
}
