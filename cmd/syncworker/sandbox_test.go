package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/state"
)

// sandboxRun is `syncworker sandbox` running in-process.
type sandboxRun struct {
	addr           string
	stdout, stderr *lockedBuffer
	stop           func() int
}

// startSandbox runs the sandbox command with args and -listen
// 127.0.0.1:0 until the test ends (or stop), once it listens.
func startSandbox(t *testing.T, args ...string) *sandboxRun {
	t.Helper()
	r := &sandboxRun{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	stop := make(chan struct{})
	ready := make(chan string, 1)
	done := make(chan int, 1)
	p := &Program{Stdout: r.stdout, Stderr: r.stderr, Ready: func(a string) { ready <- a }}
	go func() {
		done <- p.Run(context.Background(), stop, append([]string{"sandbox", "-listen", "127.0.0.1:0"}, args...))
	}()
	select {
	case r.addr = <-ready:
	case code := <-done:
		t.Fatalf("sandbox exited %d before listening\n%s", code, r.stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("the sandbox did not listen")
	}
	var (
		once sync.Once
		code int
	)
	r.stop = func() int {
		once.Do(func() {
			close(stop)
			code = <-done
		})
		return code
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func TestSandbox_FlagsValidated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "8080"}, "-listen"},
		{[]string{"-platform", "nope"}, "-platform"},
		{[]string{"-sessions", "-1"}, "-sessions"},
		{[]string{"-messages", "1"}, "-messages"},
		{[]string{"-agents", "0"}, "-agents"},
		{[]string{"-error-share", "1.5"}, "-error-share"},
		{[]string{"-rate-limit-share", "-0.1"}, "-rate-limit-share"},
		{[]string{"-malformed-share", "NaN"}, "-malformed-share"},
		{[]string{"-latency", "-1s"}, "-latency"},
		{[]string{"-retry-after", "-1"}, "-retry-after"},
		{[]string{"-token-ttl", "0s"}, "-token-ttl"},
		{[]string{"-churn", "-churn-interval", "0s"}, "-churn-interval"},
		{[]string{"-churn-interval", "1s"}, "-churn-interval: has no effect without -churn"},
		{[]string{"-data", filepath.Join(dir, "missing")}, "-data"},
		{[]string{"-write-config", filepath.Join(dir, "missing", "t.yaml")}, "-write-config"},
		{[]string{"-timezone", "Mars/Olympus"}, "unknown time zone"},
		{[]string{"-tenant", "Not A Name"}, "tenant"},
		{[]string{"-sessions", "many"}, "-sessions"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			served := false
			p := &Program{Ready: func(string) { served = true }}
			r := runProgram(p, append([]string{"sandbox", "-listen", "127.0.0.1:0"}, tc.args...))
			if r.code != exitConfig || !strings.Contains(r.stderr, tc.want) || served {
				t.Errorf("exit %d, served %v, want 2 naming %q:\n%s", r.code, served, tc.want, r.stderr)
			}
		})
	}
}

// TestSandbox_WriteConfigStdout: -write-config - prints the tenant file
// alone on stdout, one the config loader takes, with its timezone.
func TestSandbox_WriteConfigStdout(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "-write-config", "-", "-sessions", "2", "-timezone", "America/New_York", "-tenant", "demo")
	if code := sb.stop(); code != exitOK {
		t.Fatalf("sandbox exited %d\n%s", code, sb.stderr)
	}
	cfg, err := config.Parse(strings.NewReader(sb.stdout.String()), "stdout", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("stdout is not a tenant file: %v\n%s", err, sb.stdout)
	}
	if cfg.Tenant != "demo" || cfg.Timezone != "America/New_York" || cfg.Location.String() != "America/New_York" ||
		cfg.StatePath != filepath.Clean("state/demo.db") && cfg.StatePath != "./state/demo.db" ||
		cfg.ESM.BaseURL != "http://"+sb.addr+"/rest-api/itsm/v1" {
		t.Errorf("tenant file: tenant %q timezone %q state %q esm %q", cfg.Tenant, cfg.Timezone, cfg.StatePath, cfg.ESM.BaseURL)
	}
	if !strings.Contains(sb.stderr.String(), "sandbox serving on http://"+sb.addr) || strings.Contains(sb.stderr.String(), "tenant:") {
		t.Errorf("stderr:\n%s", sb.stderr)
	}
}

var summaryField = regexp.MustCompile(`\b(sessions|written|unchanged|ended|failed)=(\d+)`)

// summary reads the counts of a tenant's summary line.
func summary(t *testing.T, out string) map[string]int {
	t.Helper()
	l := line(out, "tenant=")
	if l == "" || strings.Contains(l, "error=") {
		t.Fatalf("no good summary line in:\n%s", out)
	}
	n := map[string]int{}
	for _, m := range summaryField.FindAllStringSubmatch(l, -1) {
		n[m[1]], _ = strconv.Atoi(m[2])
	}
	return n
}

// TestSandbox_ChurnGivesIncrementalPasses: with -churn, passes after the
// first write only what changed: some sessions, never all of them, while
// new cards appear and sessions end.
func TestSandbox_ChurnGivesIncrementalPasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "sandbox.yaml")
	sb := startSandbox(t, "-sessions", "40", "-messages", "6", "-churn", "-churn-interval", "30ms",
		"-write-config", file, "-state-path", filepath.Join(dir, "sandbox.db"))
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tenant file: %v %v", fi, err)
	}
	unlimited(t, file)
	first := runQuick(t, "once", "-config", file)
	if first.code != exitOK {
		t.Fatalf("first pass: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	steps := func() int { return strings.Count(sb.stderr.String(), "churn step") }
	var opened, ended, incremental bool
	for pass := 1; !(opened && ended && incremental); pass++ {
		if pass > 20 {
			t.Fatalf("no incremental pass in 20: opened %v ended %v incremental %v; churn log:\n%s", opened, ended, incremental, sb.stderr)
		}
		before := steps()
		waitFor(t, 10*time.Second, "a churn step", func() bool { return steps() > before })
		r := runQuick(t, "once", "-config", file)
		if r.code != exitOK {
			t.Fatalf("pass: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		n := summary(t, r.stdout)
		ended = ended || n["ended"] > 0
		incremental = incremental || n["written"] > 0 && n["unchanged"] > 0
		opened = opened || tracksChurned(t, filepath.Join(dir, "sandbox.db"))
	}
	if !strings.Contains(sb.stderr.String(), "churn step") {
		t.Errorf("no churn step logged:\n%s", sb.stderr)
	}
}

// tracksChurned reports whether the state at path has written a session
// the churn opened.
func tracksChurned(t *testing.T, path string) bool {
	t.Helper()
	st, err := state.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	found := false
	err = st.Sessions(context.Background(), func(s state.Session) error {
		found = found || strings.HasPrefix(s.ID, "churn-") && len(s.Written) > 0
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestSandbox_NoCardsIsForBackfill: with -no-cards a pass finds nothing
// to sync, and backfill creates and writes every session's card.
func TestSandbox_NoCardsIsForBackfill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "sandbox.yaml")
	startSandbox(t, "-sessions", "6", "-messages", "6", "-no-cards", "-write-config", file,
		"-state-path", filepath.Join(dir, "sandbox.db"))
	unlimited(t, file)
	if n := summary(t, runQuick(t, "once", "-config", file).stdout); n["sessions"] != 0 {
		t.Errorf("once found %d sessions without cards", n["sessions"])
	}
	since := time.Now().Add(-72 * time.Hour).UTC().Format("2006-01-02")
	r := runQuick(t, "backfill", "-config", file, "-since", since)
	if n := summary(t, r.stdout); r.code != exitOK || n["sessions"] != 6 || n["written"] != 6 {
		t.Errorf("backfill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
