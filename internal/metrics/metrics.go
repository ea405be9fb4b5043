// Package metrics holds syncworker's Prometheus metrics (SPEC §8): per
// tenant, passes and their outcome, sessions by outcome and by state, the
// requests to each API, the people cache and the last successful pass.
// run serves them at /metrics; once and backfill write them to a file in
// the node_exporter text-file format.
//
// No label ever carries a secret, a session id or an email: labels are
// tenant names, API names, endpoint classes, status codes and fixed words.
package metrics

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

const namespace = "syncworker"

// Metrics is one process's registry. Its methods are safe for concurrent
// use.
type Metrics struct {
	reg *prometheus.Registry

	passes       *prometheus.CounterVec
	passDuration *prometheus.HistogramVec
	sessions     *prometheus.CounterVec
	tracked      *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec
	lastPass     *prometheus.GaugeVec
	stateHeld    *prometheus.GaugeVec
	stateLocked  *prometheus.CounterVec
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	rateWaits    *prometheus.CounterVec
	rateWaitSecs *prometheus.CounterVec
	people       *prometheus.CounterVec
}

// New returns a registry with every metric, and the Go and process
// collectors when process is true (not in text files: they describe a
// process that has ended).
func New(process bool) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.passes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "passes_total",
		Help: "Sync passes by kind (sync, backfill) and result (ok, partial, interrupted, fatal)."}, []string{"tenant", "kind", "result"})
	m.passDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "pass_duration_seconds",
		Help:    "Duration of sync passes.",
		Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}, []string{"tenant", "kind"})
	m.sessions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "sessions_total",
		Help: "Sessions looked at by passes, by outcome (written, unchanged, failed, skipped, ended)."}, []string{"tenant", "outcome"})
	m.tracked = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "tracked_sessions",
		Help: "Sessions in the state after the last pass, by state (active, backing_off, failing, closed)."}, []string{"tenant", "state"})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "last_success_timestamp_seconds",
		Help: "When the tenant's last pass that was not fatal finished (Unix time)."}, []string{"tenant"})
	m.lastPass = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "last_pass_timestamp_seconds",
		Help: "When the tenant's last pass finished, whatever its result (Unix time)."}, []string{"tenant"})
	m.stateHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "state_unavailable",
		Help: "1 while the tenant's state file cannot be used (held by another process, damaged), else 0."}, []string{"tenant", "reason"})
	m.stateLocked = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "state_locked_total",
		Help: "Times the tenant was refused because another process holds its state file (two workers given the same tenant)."}, []string{"tenant"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "requests_total",
		Help: "HTTP request attempts by API (chat, esm), endpoint class and status code (0: no response)."}, []string{"tenant", "api", "endpoint", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Duration of HTTP request attempts by API and endpoint class.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}, []string{"tenant", "api", "endpoint"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "request_retries_total",
		Help: "HTTP request attempts that were retries, by API."}, []string{"tenant", "api"})
	m.rateWaits = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rate_limit_waits_total",
		Help: "Attempts that waited for the client-side rate ceiling, by API."}, []string{"tenant", "api"})
	m.rateWaitSecs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rate_limit_wait_seconds_total",
		Help: "Time spent waiting for the client-side rate ceiling, by API."}, []string{"tenant", "api"})
	m.people = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "people_cache_total",
		Help: "Person lookups by result: hit (answered from the state's cache) or miss (asked ESM)."}, []string{"tenant", "result"})
	for _, c := range []prometheus.Collector{m.passes, m.passDuration, m.sessions, m.tracked, m.lastSuccess, m.lastPass,
		m.stateHeld, m.stateLocked, m.requests, m.latency, m.retries, m.rateWaits, m.rateWaitSecs, m.people} {
		f(c)
	}
	if process {
		f(collectors.NewGoCollector())
		f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry is the underlying registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Pass is the outcome of one pass of one tenant.
type Pass struct {
	Tenant string
	// Kind is "sync" or "backfill".
	Kind string
	// Result is "ok", "partial" (some sessions failed), "interrupted" or
	// "fatal".
	Result   string
	Duration time.Duration
	Finished time.Time

	Written, Unchanged, Failed, Skipped, Ended int
}

// ObservePass records a finished pass.
func (m *Metrics) ObservePass(p Pass) {
	m.passes.WithLabelValues(p.Tenant, p.Kind, p.Result).Inc()
	m.passDuration.WithLabelValues(p.Tenant, p.Kind).Observe(p.Duration.Seconds())
	for outcome, n := range map[string]int{"written": p.Written, "unchanged": p.Unchanged, "failed": p.Failed,
		"skipped": p.Skipped, "ended": p.Ended} {
		m.sessions.WithLabelValues(p.Tenant, outcome).Add(float64(n))
	}
	ts := float64(p.Finished.UnixNano()) / 1e9
	m.lastPass.WithLabelValues(p.Tenant).Set(ts)
	if p.Result != "fatal" {
		m.lastSuccess.WithLabelValues(p.Tenant).Set(ts)
	}
}

// LastSuccess sets when the tenant's last pass that was not fatal
// finished, as the state remembers it: a fatal pass in a new process (a
// cron run, a restarted run) still exports it, so that an alert on its
// age fires.
func (m *Metrics) LastSuccess(tenant string, at time.Time) {
	m.lastSuccess.WithLabelValues(tenant).Set(float64(at.UnixNano()) / 1e9)
}

// Tracked sets the tenant's session counts by state.
func (m *Metrics) Tracked(tenant string, active, backingOff, failing, closed int) {
	for state, n := range map[string]int{"active": active, "backing_off": backingOff, "failing": failing, "closed": closed} {
		m.tracked.WithLabelValues(tenant, state).Set(float64(n))
	}
}

// StateUnavailable records whether the tenant's state file can be used;
// reason is "locked" (another process holds it) or "unusable".
func (m *Metrics) StateUnavailable(tenant, reason string, unavailable bool) {
	v := 0.0
	if unavailable {
		v = 1
	}
	m.stateHeld.WithLabelValues(tenant, reason).Set(v)
}

// StateLocked counts one refusal of the tenant because another process
// holds its state file. The gauge of StateUnavailable says whether it is
// held now; this counter keeps a refusal that a later pass cleared, and
// counts each one in a text file written by once.
func (m *Metrics) StateLocked(tenant string) {
	m.stateLocked.WithLabelValues(tenant).Inc()
}

// PeopleCache counts one Person lookup answered from the cache (hit) or
// by ESM.
func (m *Metrics) PeopleCache(tenant string, hit bool) {
	r := "miss"
	if hit {
		r = "hit"
	}
	m.people.WithLabelValues(tenant, r).Inc()
}

// Attempt records one HTTP attempt of a tenant's client of api.
func (m *Metrics) Attempt(tenant, api, endpoint string, code int, d time.Duration, retry bool) {
	m.requests.WithLabelValues(tenant, api, endpoint, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(tenant, api, endpoint).Observe(d.Seconds())
	if retry {
		m.retries.WithLabelValues(tenant, api).Inc()
	}
}

// RateWait records that an attempt waited d for the rate ceiling.
func (m *Metrics) RateWait(tenant, api string, d time.Duration) {
	m.rateWaits.WithLabelValues(tenant, api).Inc()
	m.rateWaitSecs.WithLabelValues(tenant, api).Add(d.Seconds())
}

// Forget drops every series of tenant. run calls it for a tenant a reload
// removed: its last values would otherwise stay exported for ever, and the
// alerts on their age (no successful pass, failing sessions, a locked
// state) would fire for a tenant that is no longer there.
func (m *Metrics) Forget(tenant string) {
	l := prometheus.Labels{"tenant": tenant}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.passes, m.passDuration, m.sessions, m.tracked, m.lastSuccess, m.lastPass, m.stateHeld, m.stateLocked,
		m.requests, m.latency, m.retries, m.rateWaits, m.rateWaitSecs, m.people} {
		v.DeletePartialMatch(l)
	}
}

// WriteFile writes the metrics to path in the text format node_exporter's
// text-file collector reads, atomically: a temporary file in the same
// directory, renamed over path, so that a scrape never sees half a file.
func (m *Metrics) WriteFile(path string) error {
	mfs, err := m.reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: gather: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	enc := expfmt.NewEncoder(tmp, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			tmp.Close()
			return fmt.Errorf("metrics: write %s: %w", path, err)
		}
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
