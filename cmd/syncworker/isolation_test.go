package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// line returns the first line of out that starts with prefix, or "".
func line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestOnce_BrokenTenantFileStopsOnlyItself: a tenant file with a typo, and
// another that repeats a tenant, are each reported on their own line and
// contact nothing; the good tenant is synced, and every command exits 2.
func TestOnce_BrokenTenantFileStopsOnlyItself(t *testing.T) {
	t.Parallel()
	good, goodAddr := newSandbox(t, 6, sandbox.Options{})
	other, otherAddr := newSandbox(t, 6, sandbox.Options{})
	dir := t.TempDir()
	goodFile := writeConfig(t, dir, "good", goodAddr, "")
	unlimited(t, goodFile)
	bad := writeConfig(t, dir, "bad", otherAddr, "sync:\n  concurency: 4\n")
	body, _ := os.ReadFile(goodFile)
	dup := filepath.Join(dir, "zz.yaml") // sorts after good.yaml: the later file is the broken one
	os.WriteFile(dup, body, 0o600)

	r := run(t, "once", "-config", dir)
	if r.code != exitConfig {
		t.Errorf("once: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	if l := line(r.stdout, "tenant=good "); l == "" || strings.Contains(l, "error=") || strings.Contains(l, "written=0 ") {
		t.Errorf("good tenant's line %q in:\n%s", l, r.stdout)
	}
	if good.Count(sandbox.RoutePatchCard) == 0 {
		t.Error("the good tenant's cards were not written")
	}
	if msg := fileError(t, r.stdout, bad); !strings.Contains(msg, "bad.yaml:15: sync.concurency: unknown key") {
		t.Errorf("bad file's error %q in:\n%s", msg, r.stdout)
	}
	if msg := fileError(t, r.stdout, dup); !strings.Contains(msg, `tenant "good" is also configured in `+goodFile) {
		t.Errorf("duplicate file's error %q in:\n%s", msg, r.stdout)
	}
	if strings.Count(r.stderr, "level=ERROR") < 2 || !strings.Contains(r.stderr, "file="+bad) {
		t.Errorf("the broken files were not logged as errors:\n%s", r.stderr)
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("%d requests were sent for the broken tenant", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.db")); err == nil {
		t.Error("a state file was made for the broken tenant")
	}

	for _, cmd := range []string{"check", "status"} {
		r := run(t, cmd, "-config", dir)
		if r.code != exitConfig || fileError(t, r.stdout, bad) == "" || fileError(t, r.stdout, dup) == "" ||
			line(r.stdout, "tenant=good ") == "" {
			t.Errorf("%s: exit %d, want 2 with the good tenant and a line per broken file:\n%s", cmd, r.code, r.stdout)
		}
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("check or status sent %d requests for the broken tenant", n)
	}
}

// TestOnce_UnusableStateStopsOnlyItsTenant: a state file that is not
// SQLite fails its tenant (exit 3) and nothing else; status shows the
// other tenant whole.
func TestOnce_UnusableStateStopsOnlyItsTenant(t *testing.T) {
	t.Parallel()
	good, goodAddr := newSandbox(t, 6, sandbox.Options{})
	other, otherAddr := newSandbox(t, 6, sandbox.Options{})
	dir := t.TempDir()
	unlimited(t, writeConfig(t, dir, "good", goodAddr, ""))
	writeConfig(t, dir, "bad", otherAddr, "") // "bad" sorts first
	if err := os.WriteFile(filepath.Join(dir, "bad.db"), []byte(strings.Repeat("garbage\x00\xff", 500)), 0o600); err != nil {
		t.Fatal(err)
	}

	r := run(t, "once", "-config", dir)
	if r.code != exitFatal {
		t.Errorf("once: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if l := line(r.stdout, "tenant=bad "); !strings.Contains(l, "error=") || !strings.Contains(l, "not a syncworker state database") {
		t.Errorf("bad tenant's line %q", l)
	}
	if l := line(r.stdout, "tenant=good "); l == "" || strings.Contains(l, "error=") || good.Count(sandbox.RoutePatchCard) == 0 {
		t.Errorf("good tenant's line %q; its cards written: %d", l, good.Count(sandbox.RoutePatchCard))
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("%d requests were sent for the tenant whose state is unusable", n)
	}

	r = run(t, "status", "-config", dir)
	if r.code != exitFatal {
		t.Errorf("status: exit %d, want 3", r.code)
	}
	_, badPart, _ := strings.Cut(r.stdout, "tenant=bad ")
	if !strings.Contains(badPart, "error=") || !strings.Contains(badPart, "not a syncworker state database") {
		t.Errorf("status does not report the bad tenant's state:\n%s", r.stdout)
	}
	_, goodPart, _ := strings.Cut(r.stdout, "tenant=good ")
	if !strings.Contains(goodPart, "sessions: tracked=") || !strings.Contains(goodPart, "recent runs:") {
		t.Errorf("status does not show the good tenant after the bad one:\n%s", r.stdout)
	}
}

// TestRun_LockedTenantDoesNotStopOthers starts `run` while one tenant's
// state is held and another tenant's file is broken: the healthy tenant is
// synced, the locked one is logged as an error at each tick, and synced
// once the lock is released.
func TestRun_LockedTenantDoesNotStopOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	t.Parallel()
	good, goodAddr := newSandbox(t, 6, sandbox.Options{})
	locked, lockedAddr := newSandbox(t, 6, sandbox.Options{})
	dir := t.TempDir()
	for _, tc := range []struct{ name, addr string }{{"good", goodAddr}, {"locked", lockedAddr}} {
		file := writeConfig(t, dir, tc.name, tc.addr, "")
		unlimited(t, file)
		everySecond(t, file)
	}
	bad := writeConfig(t, dir, "bad", goodAddr, "sync:\n  concurency: 4\n")
	held, err := state.Open(filepath.Join(dir, "locked.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	stop := make(chan struct{})
	var out, errs lockedBuffer
	done := make(chan int, 1)
	go func() {
		p := &Program{Stdout: &out, Stderr: &errs}
		done <- p.Run(context.Background(), stop, []string{"run", "-config", dir})
	}()
	waitUntil(t, "a pass of the good tenant and an error for the locked one", func() bool {
		return line(out.String(), "tenant=good ") != "" &&
			strings.Count(errs.String(), "level=ERROR msg=\"state cannot be opened") >= 2
	})
	if l := line(out.String(), "tenant=good "); strings.Contains(l, "error=") || good.Count(sandbox.RoutePatchCard) == 0 {
		t.Errorf("good tenant: %q, %d writes", l, good.Count(sandbox.RoutePatchCard))
	}
	if n := len(locked.Requests()); n != 0 {
		t.Errorf("%d requests for the locked tenant", n)
	}
	if !strings.Contains(errs.String(), "file="+bad) || !strings.Contains(errs.String(), "tenant=locked") {
		t.Errorf("the broken file or the locked tenant was not logged:\n%s", errs.String())
	}

	held.Close()
	waitUntil(t, "a pass of the tenant once unlocked", func() bool {
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "tenant=locked ") && !strings.Contains(l, "error=") {
				return true
			}
		}
		return false
	})
	if locked.Count(sandbox.RoutePatchCard) == 0 {
		t.Error("the unlocked tenant's cards were not written")
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
}

// TestRun_NoUsableTenantRefusesToStart: with no tenant left to sync, run
// exits at once with the worst status of them.
func TestRun_NoUsableTenantRefusesToStart(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 0, sandbox.Options{})
	dir := t.TempDir()
	bad := writeConfig(t, dir, "bad", addr, "sync:\n  concurency: 4\n")
	if r := run(t, "run", "-config", bad); r.code != exitConfig || !strings.Contains(r.stderr, "no tenant can be synced") {
		t.Errorf("only a broken file: exit %d, want 2\n%s", r.code, r.stderr)
	}
	file := writeConfig(t, dir, "acme", addr, "")
	held, err := state.Open(filepath.Join(dir, "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if r := run(t, "run", "-config", file); r.code != exitFatal || !strings.Contains(r.stderr, "in use by another") {
		t.Errorf("only a locked tenant: exit %d, want 3\n%s", r.code, r.stderr)
	}
	if r := run(t, "run", "-config", dir); r.code != exitFatal {
		t.Errorf("a broken file and a locked tenant: exit %d, want 3\n%s", r.code, r.stderr)
	}
}
