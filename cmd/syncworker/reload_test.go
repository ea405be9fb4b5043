package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// countLines counts the lines of out that start with prefix.
func countLines(out, prefix string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestRun_ReloadAppliesTenantFiles runs `run` on a directory of tenant
// files and asks it to reload them, as SIGHUP does: an added tenant is
// scheduled, a removed one stopped (its state released), a changed one
// replaced; a file that breaks keeps its tenant running and is logged as
// an error.
func TestRun_ReloadAppliesTenantFiles(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 4, sandbox.Options{})
	dir := t.TempDir()
	// Schedules that do not fire during the test: passes come from
	// -first-pass, at start and for each added or changed tenant.
	const rare = "sync:\n  concurrency: 2\n"
	acme := writeConfig(t, dir, "acme", addr, rare)
	beta := writeConfig(t, dir, "beta", addr, rare)
	for _, f := range []string{acme, beta} {
		unlimited(t, f)
		rewrite(t, f, `"* * * * *"`, `"0 0 1 1 *"`)
	}

	stop := make(chan struct{})
	reload := make(chan struct{})
	var out, errs lockedBuffer
	done := make(chan int, 1)
	go func() {
		p := &Program{Stdout: &out, Stderr: &errs, Reload: reload}
		done <- p.Run(context.Background(), stop, []string{"run", "-config", dir})
	}()
	waitUntil(t, "the first passes", func() bool {
		return countLines(out.String(), "tenant=acme ") == 1 && countLines(out.String(), "tenant=beta ") == 1
	})

	// Remove beta, add gamma, change acme.
	os.Remove(beta)
	gamma := rareConfig(t, dir, "gamma", addr, rare)
	unlimited(t, gamma)
	rewrite(t, acme, "concurrency: 2", "concurrency: 3")
	reload <- struct{}{}
	waitUntil(t, "the reload", func() bool { return strings.Contains(errs.String(), `msg="tenant files reloaded"`) })
	if want := `tenants=2 added=[gamma] changed=[acme] removed=[beta] kept_despite_broken_file=[] unusable_files=0`; !strings.Contains(errs.String(), want) {
		t.Errorf("reload log lacks %q:\n%s", want, errs.String())
	}
	waitUntil(t, "passes of the added and the changed tenant", func() bool {
		return countLines(out.String(), "tenant=gamma ") == 1 && countLines(out.String(), "tenant=acme ") == 2
	})
	waitUntil(t, "beta's state to be released", func() bool {
		return state.Probe(filepath.Join(dir, "beta.db")) == nil
	})
	if l := strings.Split(out.String(), "\n"); strings.Contains(strings.Join(l, "\n"), "error=") {
		t.Errorf("a pass failed:\n%s", out.String())
	}

	// Break acme's file: acme keeps running with its settings.
	os.WriteFile(acme, []byte("tenant: acme\nschedule: [\n"), 0o600)
	reload <- struct{}{}
	waitUntil(t, "the second reload", func() bool {
		return strings.Count(errs.String(), `msg="tenant files reloaded"`) == 2
	})
	for _, want := range []string{
		`level=ERROR msg="reload: tenant file unusable; a tenant it gave keeps running with its previous settings" file=` + acme,
		`tenants=2 added=[] changed=[] removed=[] kept_despite_broken_file=[acme] unusable_files=1`,
	} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, errs.String())
		}
	}
	if err := state.Probe(filepath.Join(dir, "acme.db")); !errors.Is(err, state.ErrLocked) {
		t.Errorf("acme's state is not held any more (%v): the tenant was stopped", err)
	}

	close(stop)
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("run exit %d after stop\n%s", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
	for _, name := range []string{"acme", "gamma"} {
		if err := state.Probe(filepath.Join(dir, name+".db")); err != nil {
			t.Errorf("%s's state still held after run ended: %v", name, err)
		}
	}
}

// TestProcess_SIGHUPReloads: the binary reloads its tenant files on SIGHUP.
func TestProcess_SIGHUPReloads(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 2, sandbox.Options{})
	dir := t.TempDir()
	rareConfig(t, dir, "acme", addr, "")
	p := start(t, "run", "-config", dir)
	p.waitFor(t, "tenant=acme ", 1)
	rareConfig(t, dir, "beta", addr, "")
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, "tenant=beta ", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 30*time.Second); code != exitOK {
		t.Errorf("exit %d\n%s", code, p.errOut)
	}
	if !strings.Contains(p.errOut.String(), "added=[beta]") {
		t.Errorf("no reload logged:\n%s", p.errOut)
	}
}

// rewrite replaces old by new in file.
func rewrite(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRun_ReloadForgetsRemovedTenantsMetrics: a tenant a reload removed
// leaves /metrics, or its frozen last-success time and failing count
// would page someone for a tenant that is gone.
func TestRun_ReloadForgetsRemovedTenantsMetrics(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 2, sandbox.Options{})
	dir := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"acme", "beta"} {
		files[name] = rareConfig(t, dir, name, addr, "")
		unlimited(t, files[name])
	}
	reload := make(chan struct{})
	lis, out, stop := listeningRunWith(t, &Program{Reload: reload}, "-config", dir)
	defer stop()
	waitFor(t, 30*time.Second, "the first passes", func() bool {
		return strings.Contains(out.String(), "tenant=acme ") && strings.Contains(out.String(), "tenant=beta ")
	})
	series := func(tenant string) int {
		n := 0
		for _, f := range scrape(t, lis) {
			for _, s := range f.samples {
				if s.labels["tenant"] == tenant {
					n++
				}
			}
		}
		return n
	}
	if series("beta") == 0 {
		t.Fatal("no series of beta before the reload")
	}
	os.Remove(files["beta"])
	reload <- struct{}{}
	waitFor(t, 20*time.Second, "beta's series to leave /metrics", func() bool { return series("beta") == 0 })
	if series("acme") == 0 {
		t.Error("acme's series went too")
	}
}

// TestRun_ReloadAddedTenantIsGivenItsScheduleToPass: /readyz gives a
// tenant a reload added twice its schedule from the reload, not from the
// start of the process, before it counts its missing pass against it.
func TestRun_ReloadAddedTenantIsGivenItsScheduleToPass(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 2, sandbox.Options{})
	dir := t.TempDir()
	rareConfig(t, dir, "acme", addr, "")
	var clock atomic.Int64
	clock.Store(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	reload := make(chan struct{})
	lis, _, stop := listeningRunWith(t, &Program{Reload: reload, Now: now}, "-config", dir, "-first-pass=false")
	defer stop()
	if code, body := get(t, lis, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz at start: %d %s", code, body)
	}

	// An hour later a tenant on a five-minute schedule is added.
	clock.Add(int64(time.Hour))
	beta := writeConfig(t, dir, "beta", addr, "")
	rewrite(t, beta, `"* * * * *"`, `"*/5 * * * *"`)
	reload <- struct{}{}
	waitFor(t, 20*time.Second, "beta on the status page", func() bool {
		_, page := get(t, lis, "/")
		return strings.Contains(page, `id="tenant-beta"`)
	})
	if code, body := get(t, lis, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz just after beta was added: %d %s", code, body)
	}
	// Eleven minutes without a pass are too many.
	clock.Add(int64(11 * time.Minute))
	if code, body := get(t, lis, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "tenant beta: ") {
		t.Errorf("/readyz 11 minutes after beta was added: %d %s", code, body)
	}
}

// TestFleet_ReplaceForgetsRemovedTenantsLastPass: a tenant removed and
// added again is not held to the fatal pass it had before.
func TestFleet_ReplaceForgetsRemovedTenantsLastPass(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgs, broken := config.LoadEach([]string{writeConfig(t, dir, "beta", "127.0.0.1:1", "")})
	if len(broken) > 0 {
		t.Fatal(broken[0])
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	p := &Program{Now: func() time.Time { return now }}
	f := newFleet(p, []*job{{cfg: cfgs[0], since: now}}, nil)
	f.passed("beta", now, errors.New("esm log in: 401 Unauthorized"))
	if got := f.NotReady(now); len(got) != 1 {
		t.Fatalf("NotReady after a fatal pass: %q", got)
	}
	f.replace(nil, nil)
	f.replace([]*job{{cfg: cfgs[0], since: now}}, nil)
	if got := f.NotReady(now); len(got) != 0 {
		t.Errorf("NotReady of the tenant added again: %q", got)
	}
}

// TestRun_ReloadEndsReplacedTenantsExtraPasses: the goroutine that runs a
// tenant's event-driven extra passes ends when a reload replaces the
// tenant, instead of piling up, one per reload, until run stops. Not
// parallel: it counts goroutines by their stacks.
func TestRun_ReloadEndsReplacedTenantsExtraPasses(t *testing.T) {
	_, addr := newSandbox(t, 2, sandbox.Options{})
	dir := t.TempDir()
	acme := rareConfig(t, dir, "acme", addr, "sync:\n  concurrency: 2\n")
	unlimited(t, acme)
	reload := make(chan struct{})
	_, out, stop := listeningRunWith(t, &Program{Reload: reload}, "-config", dir, "-first-pass=false")
	defer stop()
	extraLoops := func() int {
		buf := make([]byte, 1<<22)
		return strings.Count(string(buf[:runtime.Stack(buf, true)]), "(*runCmd).extraPasses.func")
	}
	waitFor(t, 10*time.Second, "the extra-pass loop of acme", func() bool { return extraLoops() == 1 })
	for i := range 5 {
		rewrite(t, acme, fmt.Sprintf("concurrency: %d", i+2), fmt.Sprintf("concurrency: %d", i+3))
		reload <- struct{}{}
	}
	waitFor(t, 10*time.Second, "one extra-pass loop after five reloads", func() bool { return extraLoops() == 1 })
	if strings.Contains(out.String(), "error=") {
		t.Errorf("a pass failed:\n%s", out.String())
	}
}

// rareConfig writes a tenant file whose schedule does not fire during a
// test (once a year): its passes come from -first-pass and reloads.
func rareConfig(t *testing.T, dir, tenant, addr, extra string) string {
	t.Helper()
	file := writeConfig(t, dir, tenant, addr, extra)
	rewrite(t, file, `"* * * * *"`, `"0 0 1 1 *"`)
	return file
}
