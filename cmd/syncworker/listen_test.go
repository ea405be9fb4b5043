package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// listeningRun is `run -listen 127.0.0.1:0` in-process; it returns the
// address once the listener is open and a stop function that waits for
// the exit status.
func listeningRun(t *testing.T, args ...string) (addr string, out *lockedBuffer, stopRun func() int) {
	t.Helper()
	return listeningRunWith(t, &Program{}, args...)
}

// listeningRunWith is listeningRun of p, for tests that set its hooks or
// retry waits.
func listeningRunWith(t *testing.T, p *Program, args ...string) (addr string, out *lockedBuffer, stopRun func() int) {
	t.Helper()
	out = &lockedBuffer{}
	var errs lockedBuffer
	stop := make(chan struct{})
	ready := make(chan string, 1)
	done := make(chan int, 1)
	p.Stdout, p.Stderr, p.Listening = out, &errs, func(a string) { ready <- a }
	go func() {
		done <- p.Run(context.Background(), stop, append([]string{"run", "-listen", "127.0.0.1:0", "-stop-timeout", "20s"}, args...))
	}()
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("run exited %d before listening\n%s", code, errs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("run did not listen")
	}
	var (
		once sync.Once
		code int
	)
	return addr, out, func() int {
		once.Do(func() {
			close(stop)
			code = <-done
		})
		return code
	}
}

// get fetches path from addr and returns the status and body.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond every 20 ms for up to d: the worker's passes run on
// their own schedule, and the test waits for what they leave behind.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrape(t *testing.T, addr string) map[string]*dtoFamily {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	return parseExposition(t, "/metrics", strings.NewReader(body))
}

// parseExposition parses metrics in the text exposition format with the
// library's own parser: each family's series with their labels and value
// (a histogram's sample count).
func parseExposition(t *testing.T, name string, r io.Reader) map[string]*dtoFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	out := map[string]*dtoFamily{}
	for name, mf := range mfs {
		f := &dtoFamily{}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			f.samples = append(f.samples, sample{labels, v})
		}
		out[name] = f
	}
	return out
}

type sample struct {
	labels map[string]string
	value  float64
}

type dtoFamily struct{ samples []sample }

// sum adds the samples whose labels include want.
func (f *dtoFamily) sum(want map[string]string) float64 {
	if f == nil {
		return 0
	}
	total := 0.0
	for _, s := range f.samples {
		ok := true
		for k, v := range want {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			total += s.value
		}
	}
	return total
}

// TestRun_ListenServesMetricsHealthAndStatus scrapes /metrics while a pass
// runs against a slow sandbox and after it, and checks the health
// endpoints and the status page.
func TestRun_ListenServesMetricsHealthAndStatus(t *testing.T) {
	t.Parallel()
	_, sbAddr := newSandbox(t, 20, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", sbAddr, "sync:\n  concurrency: 2\n")
	unlimited(t, file)
	// Every write waits, once ESM confirmed it, until the test has
	// scraped: the first scrape is surely taken during the pass.
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	p := &Program{Hooks: engine.Hooks{AfterPatch: func(string) error { <-release; return nil }}}
	addr, out, stop := listeningRunWith(t, p, "-config", file)
	defer stop()
	defer releaseOnce()

	if code, body := get(t, addr, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	// During the first pass: its requests are counted before it ends.
	waitFor(t, 20*time.Second, "requests during the pass", func() bool {
		return scrape(t, addr)["syncworker_requests_total"].sum(map[string]string{"tenant": "acme", "api": "esm", "endpoint": "PATCH"}) > 0
	})
	if m := scrape(t, addr); m["syncworker_passes_total"].sum(map[string]string{"tenant": "acme"}) != 0 || strings.Contains(out.String(), "tenant=acme") {
		t.Fatal("the pass ended before the scrape, though its writes wait for it")
	}
	releaseOnce()
	waitFor(t, 30*time.Second, "the first pass", func() bool { return strings.Contains(out.String(), "tenant=acme") })
	m := scrape(t, addr)
	if n := m["syncworker_passes_total"].sum(map[string]string{"tenant": "acme", "kind": "sync", "result": "ok"}); n != 1 {
		t.Errorf("passes_total{result=ok} = %v, want 1", n)
	}
	for _, want := range []struct {
		name   string
		labels map[string]string
	}{
		{"syncworker_requests_total", map[string]string{"api": "chat", "endpoint": "session", "code": "200"}},
		{"syncworker_requests_total", map[string]string{"api": "esm", "code": "200"}},
		{"syncworker_request_duration_seconds", map[string]string{"api": "esm"}},
		{"syncworker_sessions_total", map[string]string{"outcome": "written"}},
		{"syncworker_tracked_sessions", map[string]string{"state": "active"}},
		{"syncworker_last_success_timestamp_seconds", map[string]string{"tenant": "acme"}},
		{"syncworker_people_cache_total", nil},
		{"syncworker_pass_duration_seconds", nil},
		{"go_goroutines", nil},
	} {
		if m[want.name].sum(want.labels) <= 0 {
			t.Errorf("%s%v missing or zero", want.name, want.labels)
		}
	}
	// No label may carry a session id, an email or a secret.
	for name, f := range m {
		for _, s := range f.samples {
			for k, v := range s.labels {
				if strings.Contains(v, "@") || strings.HasPrefix(v, "ws-") || strings.Contains(v, sandboxPassword) ||
					strings.Contains(v, sandboxChatToken) {
					t.Errorf("%s has label %s=%q", name, k, v)
				}
			}
		}
	}
	if code, body := get(t, addr, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a good pass: %d %s", code, body)
	}
	code, body := get(t, addr, "/")
	if code != http.StatusOK || !strings.Contains(body, `id="tenant-acme"`) || strings.Contains(body, sandboxPassword) {
		t.Errorf("status page: %d\n%s", code, body)
	}
	if code := stop(); code != exitOK {
		t.Errorf("run exited %d after the stop", code)
	}
}

// TestRun_ReadyzReportsFatalPass: a tenant whose ESM refuses the login is
// not ready, and /readyz says why.
func TestRun_ReadyzReportsFatalPass(t *testing.T) {
	t.Parallel()
	_, sbAddr := newSandbox(t, 2, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", sbAddr, "")
	wrongPassword(t, file)
	addr, out, stop := listeningRun(t, "-config", file)
	defer stop()
	waitFor(t, 20*time.Second, "the first pass", func() bool { return strings.Contains(out.String(), "tenant=acme") })
	code, body := get(t, addr, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "tenant acme") || !strings.Contains(body, "login") {
		t.Errorf("/readyz: %d %q", code, body)
	}
}
