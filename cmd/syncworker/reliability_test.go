package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// TestProcess_SIGKILLAtRandomPointsConverges kills `syncworker once` with
// SIGKILL at random points of a pass over 500 sessions, 20 times in a row,
// then lets one pass finish: every card is right, no card is duplicated,
// and the state file is sound.
func TestProcess_SIGKILLAtRandomPointsConverges(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 0, sandbox.Options{})
	if _, err := sb.Generate(sandbox.GenOptions{Sessions: 500, MessagesPerSession: 8, Agents: 10, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	sb.SetFaults(sandbox.Everywhere(sandbox.Fault{Latency: 2 * time.Millisecond}))
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "sync:\n  concurrency: 8\n")
	unlimited(t, file)
	cards := len(sb.SessionCards())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		// New messages between kills, so that later passes have writes to
		// be killed in too.
		if i%5 == 4 {
			appendToAll(t, sb)
		}
		p := start(t, "once", "-config", file)
		// Most passes end by themselves before their kill point: waiting
		// on to kill a process that is gone would only take time.
		select {
		case <-p.done:
		case <-time.After(time.Duration(rng.IntN(1500)) * time.Millisecond):
		}
		p.cmd.Process.Kill()
		p.wait(t, 10*time.Second)
	}
	if r := run(t, "once", "-config", file); r.code != exitOK {
		t.Fatalf("pass after 20 kills: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := len(sb.SessionCards()); got != cards {
		t.Errorf("%d cards after the kills, want %d", got, cards)
	}
	for _, id := range sb.SessionIDs() {
		if n := len(sb.CardsBySession(id)); n != 1 {
			t.Errorf("session %s has %d cards", id, n)
		}
		s, msgs, _ := sb.Session(id)
		want := aggregate.Aggregate(s, msgs, aggregate.Options{Now: time.Now(), Location: time.UTC, MaxActiveAge: 168 * time.Hour})
		c, _ := sb.CardBySession(id)
		if got := c.Text("chat_log"); got != want.ChatLog {
			t.Errorf("session %s: chat log differs from its transcript", id)
		}
		if n, _ := c.Number("message_count"); int(n) != want.MessageCount {
			t.Errorf("session %s: message_count %v, want %d", id, n, want.MessageCount)
		}
		if got, wantActive := c.Text("is_chat_active"), map[bool]string{true: "Yes", false: "No"}[want.Active]; got != wantActive {
			t.Errorf("session %s: active %q, want %q", id, got, wantActive)
		}
	}
	s, err := state.Open(filepath.Join(dir, "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res, err := s.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Errorf("integrity_check = %q, %v", res, err)
	}
}

// TestSecretsNeverLeak runs every command at debug level with distinctive
// secrets, through failures and token renewals too, and searches all
// output and the state file for them. Retries do not wait and the rate
// ceilings are lifted: what is logged does not depend on the pacing.
//
// It is not parallel: its secrets come from the environment (t.Setenv),
// which the tenant files read.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		token    = "tok-S3cr3t-Chat-9f8e7d"
		password = "pw-S3cr3t-Esm-1a2b3c"
	)
	sb, addr := newSandbox(t, 0, sandbox.Options{ChatToken: token, Login: "svc-sync", Password: password, TokenTTL: 2 * time.Second})
	if _, err := sb.Generate(sandbox.GenOptions{Sessions: 30, MessagesPerSession: 5, Agents: 3, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	faults := sandbox.Fault{ServerErrorShare: 0.2, RateLimitShare: 0.1, MalformedShare: 0.05}
	sb.SetFaults(sandbox.Everywhere(faults))
	dir := t.TempDir()
	t.Setenv("SW_TEST_TOKEN", token)
	t.Setenv("SW_TEST_PASSWORD", password)
	body := strings.NewReplacer(sandboxChatToken, "${SW_TEST_TOKEN}", sandboxPassword, "${SW_TEST_PASSWORD}", "login: "+sandboxLogin, "login: svc-sync").
		Replace(sandboxConfig("acme", addr, filepath.Join(dir, "acme.db")))
	body = string(noCeilings([]byte(body)))
	file := filepath.Join(dir, "acme.yaml")
	os.WriteFile(file, []byte(body), 0o600)
	wrong := filepath.Join(dir, "wrong", "acme.yaml")
	os.MkdirAll(filepath.Dir(wrong), 0o700)
	os.WriteFile(wrong, []byte(strings.Replace(body, "${SW_TEST_PASSWORD}", password+"-wrong", 1)), 0o644)

	var all strings.Builder
	for i, args := range [][]string{
		{"once", "-config", file, "-log-level", "debug"},
		{"once", "-config", file, "-log-level", "debug", "-log-format", "json"},
		{"status", "-config", file},
		{"check", "-config", file, "-log-level", "debug"},
		{"check", "-config", wrong, "-log-level", "debug"},
		{"once", "-config", wrong, "-log-level", "debug"},
		{"backfill", "-config", file, "-since", "2000-01-01", "-log-level", "debug"},
	} {
		var r result
		if i == 0 {
			r = runUntilRenewed(t, sb, faults, args...)
		} else {
			r = runQuick(t, args...)
		}
		all.WriteString(r.stdout + r.stderr)
	}
	state, _ := os.ReadFile(filepath.Join(dir, "acme.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "acme.db-wal"))
	for _, secret := range []string{token, password} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("output holds the secret %q", secret)
		}
		if strings.Contains(string(state)+string(wal), secret) {
			t.Errorf("the state file holds the secret %q", secret)
		}
	}
	if !strings.Contains(all.String(), "level=DEBUG") || !strings.Contains(all.String(), "readable by others") {
		t.Errorf("the run did not reach debug logs or the literal-secret warning:\n%.2000s", all.String())
	}
}

// TestOnce_UnusableStateExits3ContactingNothing: a full disk, a directory
// that cannot be made, a file that is not SQLite, a schema from the future.
func TestOnce_UnusableStateExits3ContactingNothing(t *testing.T) {
	t.Parallel()
	bin := syncworkerBinary(t)
	sb, addr := newSandbox(t, 5, sandbox.Options{})
	tests := []struct {
		name  string
		state func(dir string) string // returns the state path
		shell string                  // a limit set before exec, if any
		want  string
	}{
		{"disk full", func(dir string) string { return filepath.Join(dir, "acme.db") }, "ulimit -f 8; ", "acme.db"},
		{"directory cannot be made", func(string) string { return "/proc/syncworker-test/acme.db" }, "", "/proc/syncworker-test/acme.db"},
		{"not SQLite", func(dir string) string {
			p := filepath.Join(dir, "acme.db")
			os.WriteFile(p, []byte(strings.Repeat("not a database\n", 300)), 0o600)
			return p
		}, "", "not a syncworker state database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.state(dir)
			file := filepath.Join(dir, "acme.yaml")
			os.WriteFile(file, []byte(sandboxConfig("acme", addr, path)), 0o600)
			sb.ResetStats()
			cmd := exec.Command("/bin/sh", "-c", tt.shell+`exec "$0" once -config "$1"`, bin, file)
			cmd.Env = syncworkerEnv()
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != exitFatal || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %d, output:\n%s\nwant 3 and %q", code, out, tt.want)
			}
			if n := len(sb.Requests()); n != 0 {
				t.Errorf("%d requests reached the APIs", n)
			}
		})
	}
}

// runUntilRenewed runs args in-process against sb, slowed down until ESM
// has granted a second login, and checks that it was granted. Retries do
// not wait (runQuick), so at full speed a pass would end before its first
// token is half spent, and a renewal, with what it logs, would never
// happen under the faults.
func runUntilRenewed(t *testing.T, sb *sandbox.Server, faults sandbox.Fault, args ...string) result {
	t.Helper()
	slow := faults
	slow.Latency = 100 * time.Millisecond
	sb.SetFaults(sandbox.Everywhere(slow))
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for grantedLogins(sb) < 2 {
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
		sb.SetFaults(sandbox.Everywhere(faults))
	}()
	r := runQuick(t, args...)
	close(done)
	<-watched
	sb.SetFaults(sandbox.Everywhere(faults))
	if n := grantedLogins(sb); n < 2 {
		t.Errorf("%s granted %d login(s); a pass that outlives half a token's life logs in again", args[0], n)
	}
	return r
}

// grantedLogins counts the logins sb answered in full.
func grantedLogins(sb *sandbox.Server) int {
	n := 0
	for _, r := range sb.Requests() {
		if r.Route == sandbox.RouteLogin && r.Status == http.StatusOK && r.Fault == "" {
			n++
		}
	}
	return n
}
