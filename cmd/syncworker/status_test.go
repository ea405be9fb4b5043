package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestStatus_ListsDeferredSessions: sessions whose write an API cut short
// (ESM answering every PATCH with a 5xx)
// are failing too, though they wait out no back-off; status lists each one
// with its error, and the next attempt only for a session backing off.
func TestStatus_ListsDeferredSessions(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 6, sandbox.Options{})
	var active []string
	for _, c := range sb.SessionCards() {
		if c.Text("is_chat_active") == "Yes" {
			active = append(active, c.Text("chat_session_id"))
		}
	}
	if len(active) < 3 || len(active) >= 10 {
		t.Fatalf("%d active cards; the test wants a few, fewer than the 10 that make an API look down", len(active))
	}
	gone := active[0] // its own failure: the platform no longer knows it
	sb.DeleteSession(gone)
	sb.SetFaults(sandbox.Faults{ESM: sandbox.Fault{ServerErrorShare: 1, Routes: []string{sandbox.RoutePatchCard}}})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	unlimited(t, file)
	// Retries that do not wait: the 5xx are deferred all the same.
	if r := runQuick(t, "once", "-config", file); r.code != exitPartial {
		t.Fatalf("once: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}

	r := run(t, "status", "-config", file)
	if r.code != exitOK {
		t.Fatalf("status: exit %d\n%s", r.code, r.stderr)
	}
	want := "sessions: tracked=" + strconv.Itoa(len(active)) + " active=" + strconv.Itoa(len(active)) + " ended=0 failing=" + strconv.Itoa(len(active)) + " backing_off=1"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("status lacks %q:\n%s", want, r.stdout)
	}
	for _, id := range active {
		l := line(strings.ReplaceAll(r.stdout, "    session=", "session="), "session="+id+" ")
		switch {
		case l == "":
			t.Errorf("session %s is not listed:\n%s", id, r.stdout)
		case id == gone:
			if !strings.Contains(l, "failures=1 deferrals=0 next_attempt=") || !strings.Contains(l, "not found") {
				t.Errorf("backing-off session: %s", l)
			}
		default:
			if !strings.Contains(l, "failures=0 deferrals=1 error=") || !strings.Contains(l, "injected fault") {
				t.Errorf("deferred session: %s", l)
			}
		}
	}
}

// TestOnce_RefusedLoginBacksOffAcrossRuns: cron runs a new process each
// tick; a refused ESM password must not be tried again by the next one
// before the back-off is over, and status says why nothing happens.
func TestOnce_RefusedLoginBacksOffAcrossRuns(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 3, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	wrongPassword(t, file)
	for i := range 2 {
		r := run(t, "once", "-config", file)
		if r.code != exitFatal {
			t.Fatalf("once %d: exit %d, want 3\n%s%s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	if n := sb.Count(sandbox.RouteLogin); n != 1 {
		t.Errorf("%d login attempts over two runs, want 1: the second must wait out the back-off", n)
	}
	r := run(t, "status", "-config", file)
	if !strings.Contains(r.stdout, "esm_login: refused=1 next_attempt=") || strings.Contains(r.stdout, "wrong-password") {
		t.Errorf("status:\n%s", r.stdout)
	}
}

// wrongPassword makes the tenant file log in to the sandbox's ESM with a
// password it refuses.
func wrongPassword(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("password: "+sandboxPassword), []byte("password: wrong-password"), 1)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
