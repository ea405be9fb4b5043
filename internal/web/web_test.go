package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/status"
)

// source is a fixed report and readiness.
type source struct {
	rep      status.Report
	notReady []string
}

func (s source) Status(context.Context) status.Report { return s.rep }
func (s source) NotReady(time.Time) []string          { return s.notReady }

var now = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)

func report() status.Report {
	lastOK, next, retry := now.Add(-3*time.Minute), now.Add(2*time.Minute), now.Add(10*time.Minute)
	age := int64(180)
	return status.Report{AsOf: now, Tenants: []status.Tenant{
		{Name: "acme", Schedule: "*/5 * * * *", NextPass: &next, LastOK: &lastOK, LastOKAge: &age,
			Sessions: &status.Counts{Tracked: 12, Active: 9, Ended: 3, Failing: 1, BackingOff: 1},
			Failing: []status.Failing{{Session: "ws-7", Card: "41", Failures: 2, NextAttempt: &retry,
				Error: `fetch session ws-7: <script>alert("x")</script>`}},
			Runs: []status.Run{{Kind: "sync", Started: lastOK, Finished: &lastOK, Seconds: 1.4, Sessions: 12,
				Written: 4, Unchanged: 7, Failed: 1, Skipped: 2, Result: "partial"}}},
		{Name: "fresh", NoState: true, NextPass: &next, Failing: []status.Failing{}, Runs: []status.Run{}},
		status.Unloaded("/etc/syncworker/broken.yaml", errors.New("broken.yaml:3: unknown key \"tokn\"")),
	}}
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

func TestServer_Page(t *testing.T) {
	s := New(source{rep: report()}, Options{Refresh: 30 * time.Second, Now: func() time.Time { return now }})
	resp, body := get(t, s, "/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="30">`,
		`id="ready"`,
		`<a href="#tenant-acme">acme</a>`,
		`<td class="tracked">12</td>`, `<td class="active">9</td>`, `<td class="failing bad">1</td>`,
		`2024-06-03T12:10:00Z`, // the failing session's next attempt
		`fetch session ws-7: &lt;script&gt;`,
		`2024-06-03T11:57:00Z</time> (3m0s ago)`,
		`2024-06-03T12:02:00Z</time> (in 2m0s)`,
		`<span class="result partial">partial</span>`,
		`No pass has run yet. The first is due`,
		`/etc/syncworker/broken.yaml`, `tenant file not loaded: broken.yaml:3: unknown key`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("page has a script or an external reference")
	}
	if strings.Contains(body, `href="/metrics"`) {
		t.Error("page links /metrics, which this server does not serve")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if resp, css := get(t, s, "/static/style.css"); resp.StatusCode != http.StatusOK || !strings.Contains(css, "table") {
		t.Errorf("/static/style.css: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s, "/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without metrics: %d", resp.StatusCode)
	}
	// No listing of the assets, and not the page's template.
	for _, path := range []string{"/static/", "/static/page.html"} {
		if resp, _ := get(t, s, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestServer_Health(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "m 1\n") })
	ready := New(source{rep: report()}, Options{Metrics: metrics})
	if resp, body := get(t, ready, "/readyz"); resp.StatusCode != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, ready, "/metrics"); resp.StatusCode != http.StatusOK || body != "m 1\n" {
		t.Errorf("/metrics: %d %q", resp.StatusCode, body)
	}
	if _, body := get(t, ready, "/"); !strings.Contains(body, `href="/metrics"`) {
		t.Error("page does not link /metrics")
	}
	notReady := New(source{rep: report(), notReady: []string{"tenant b: late", "tenant a: fatal"}}, Options{})
	if resp, body := get(t, notReady, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable ||
		body != "tenant a: fatal\ntenant b: late\n" {
		t.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
	if _, body := get(t, notReady, "/"); !strings.Contains(body, `id="not-ready"`) || !strings.Contains(body, "tenant a: fatal") {
		t.Error("page does not say why the worker is not ready")
	}
	if resp, body := get(t, notReady, "/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
}

func TestServer_NoTenant(t *testing.T) {
	s := New(source{rep: status.Report{AsOf: now, Tenants: []status.Tenant{}}}, Options{})
	if _, body := get(t, s, "/"); !strings.Contains(body, "No tenant is configured.") || strings.Contains(body, `id="overview"`) {
		t.Errorf("page without tenants:\n%s", body)
	}
}

// TestServer_ManyFailing: the page lists the failing sessions it was given
// and says how many more there are.
func TestServer_ManyFailing(t *testing.T) {
	rep := report()
	rep.Tenants[0].Sessions.Failing = 250
	s := New(source{rep: rep}, Options{})
	if _, body := get(t, s, "/"); !strings.Contains(body, "… and 249 more") {
		t.Error("page does not say how many failing sessions it left out")
	}
	if _, body := get(t, New(source{rep: report()}, Options{}), "/"); strings.Contains(body, "more;") {
		t.Error("page says more failing sessions were left out when none were")
	}
}
