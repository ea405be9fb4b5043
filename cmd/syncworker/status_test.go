package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/status"
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

// TestStatus_JSONIsTheTextReport: status -format json prints the data the
// text shows (and the status page renders), every time in the text is RFC
// 3339, and run lines carry skipped like once's summary.
func TestStatus_JSONIsTheTextReport(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 6, sandbox.Options{})
	dir := t.TempDir()
	sb.DeleteSession(activeSessions(sb)[0])
	file := writeConfig(t, dir, "acme", addr, "")
	unlimited(t, file)
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("tenant: broken\nnot_a_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runQuick(t, "once", "-config", file); r.code != exitPartial {
		t.Fatalf("once: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A second pass: the lost session waits out its back-off (skipped).
	if r := runQuick(t, "once", "-config", file); r.code != exitOK {
		t.Fatalf("second once: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	text := run(t, "status", "-config", dir)
	js := run(t, "status", "-config", dir, "-format", "json")
	if text.code != exitConfig || js.code != exitConfig {
		t.Fatalf("status with a broken file: exit %d (text), %d (json), want 2\n%s", text.code, js.code, text.stderr)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatalf("status -format json is not one JSON document: %v\n%s", err, js.stdout)
	}
	if len(rep.Tenants) != 2 || rep.Tenants[0].File != broken || !strings.Contains(rep.Tenants[0].Error, "not_a_key") {
		t.Fatalf("tenants %+v, want the broken file and acme", rep.Tenants)
	}
	acme := rep.Tenants[1]
	if acme.Name != "acme" || acme.Error != "" || acme.LastOK == nil || acme.LastOKAge == nil || acme.NextPass == nil ||
		acme.Schedule != "* * * * *" || len(acme.Runs) != 2 || len(acme.Failing) != 1 {
		t.Fatalf("acme %+v", acme)
	}
	n := acme.Sessions
	for _, want := range []string{
		fmt.Sprintf("sessions: tracked=%d active=%d ended=%d failing=%d backing_off=%d", n.Tracked, n.Active, n.Ended, n.Failing, n.BackingOff),
		"next_pass=" + status.FormatTime(*acme.NextPass),
		"last_success=" + status.FormatTime(*acme.LastOK) + " last_success_age=",
		"session=" + acme.Failing[0].Session + " ",
		"next_attempt=" + status.FormatTime(*acme.Failing[0].NextAttempt),
		strconv.Quote(acme.Failing[0].Error),
		status.FormatTime(acme.Runs[0].Started) + " sync     result=ok sessions=",
		fmt.Sprintf("skipped=%d", acme.Runs[0].Skipped),
		"result=partial",
	} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("text status lacks %q:\n%s", want, text.stdout)
		}
	}
	if acme.Runs[0].Skipped < 1 {
		t.Errorf("the second pass skipped %d sessions, want the one backing off", acme.Runs[0].Skipped)
	}
	// One time format: whatever looks like a date is RFC 3339 with a zone.
	for _, ts := range regexp.MustCompile(`\d{4}-\d\d-\d\d[T ][^ ]*`).FindAllString(text.stdout, -1) {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("time %q in the status is not RFC 3339: %v", ts, err)
		}
	}
	if strings.Contains(js.stdout, sandboxPassword) || strings.Contains(text.stdout, sandboxPassword) {
		t.Error("status shows the ESM password")
	}
}

// TestStatus_ReadOnlyOpenFailureSaysSo: status opens the state read-only;
// when that fails it says so, not that it cannot write.
func TestStatus_ReadOnlyOpenFailureSaysSo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", "127.0.0.1:1", "")
	// A directory where the state file should be: there, but no database.
	if err := os.Mkdir(filepath.Join(dir, "acme.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := run(t, "status", "-config", file)
	if r.code != exitFatal || !strings.Contains(r.stdout, "read-only") || strings.Contains(r.stdout, "cannot write") {
		t.Errorf("status: exit %d, want 3 and an error saying the read-only open failed:\n%s", r.code, r.stdout)
	}
}
