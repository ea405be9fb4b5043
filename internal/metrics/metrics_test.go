package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestWriteFile_ParsesAndIsAtomic(t *testing.T) {
	m := New(false)
	m.ObservePass(Pass{Tenant: "acme", Kind: "sync", Result: "partial", Duration: 1500 * time.Millisecond,
		Finished: time.Unix(1700000000, 0), Written: 3, Unchanged: 7, Failed: 1})
	m.Attempt("acme", "chat", "session", 200, 20*time.Millisecond, false)
	m.Attempt("acme", "esm", "patch", 503, 30*time.Millisecond, true)
	m.Tracked("acme", 10, 1, 2, 5)
	m.PeopleCache("acme", true)
	path := filepath.Join(t.TempDir(), "syncworker.prom")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("the file does not parse: %v", err)
	}
	for _, name := range []string{"syncworker_passes_total", "syncworker_pass_duration_seconds", "syncworker_sessions_total",
		"syncworker_tracked_sessions", "syncworker_requests_total", "syncworker_request_duration_seconds",
		"syncworker_request_retries_total", "syncworker_people_cache_total", "syncworker_last_success_timestamp_seconds"} {
		if mfs[name] == nil {
			t.Errorf("%s missing from the file", name)
		}
	}
	if got := mfs["syncworker_last_success_timestamp_seconds"].GetMetric()[0].GetGauge().GetValue(); got != 1700000000 {
		t.Errorf("last success = %v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestForget: every series of a forgotten tenant goes, the other tenants'
// stay.
func TestForget(t *testing.T) {
	m := New(false)
	for _, tenant := range []string{"acme", "beta"} {
		m.ObservePass(Pass{Tenant: tenant, Kind: "sync", Result: "ok", Duration: time.Second, Finished: time.Unix(1700000000, 0)})
		m.LastSuccess(tenant, time.Unix(1700000000, 0))
		m.Tracked(tenant, 1, 0, 1, 0)
		m.StateUnavailable(tenant, "locked", true)
		m.StateLocked(tenant)
		m.Attempt(tenant, "esm", "PATCH", 503, time.Millisecond, true)
		m.RateWait(tenant, "chat", time.Millisecond)
		m.PeopleCache(tenant, false)
	}
	m.Forget("beta")
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	families := 0
	for _, mf := range mfs {
		acme := 0
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "tenant" && l.GetValue() == "beta" {
					t.Errorf("%s still has a series of beta", mf.GetName())
				}
				if l.GetName() == "tenant" && l.GetValue() == "acme" {
					acme++
				}
			}
		}
		if acme == 0 {
			t.Errorf("%s lost acme's series", mf.GetName())
		}
		families++
	}
	if families != 14 {
		t.Errorf("%d families gathered, want the 14 syncworker_ ones", families)
	}
}
