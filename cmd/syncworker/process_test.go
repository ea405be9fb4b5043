package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/syncworker/syncworker/internal/esmspec"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// childEnv, set to 1, makes the test binary run the command line instead
// of the tests: it stands in for the syncworker binary.
const childEnv = "SYNCWORKER_TEST_RUN_MAIN"

// TestMain runs main when the test binary was started as syncworker by a
// process test. Starting the test binary itself spares a `go build` of
// the command (seconds, most of them linking) in every test run, and the
// code the children run is the code under test.
func TestMain(m *testing.M) {
	// The tests run passes every second; operators may not.
	config.MinScheduleInterval = time.Second
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	fmt.Println(esmspec.Summary())
	os.Exit(code)
}

// syncworkerBinary is the executable to start as syncworker; start it
// with syncworkerEnv.
func syncworkerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// syncworkerEnv is the environment of a child started as syncworker.
func syncworkerEnv() []string { return append(os.Environ(), childEnv+"=1") }

// process is a syncworker child process with its output collected.
type process struct {
	cmd         *exec.Cmd
	out, errOut *lockedBuffer
	done        chan struct{}
}

func start(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(syncworkerBinary(t), args...), out: &lockedBuffer{}, errOut: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr, p.cmd.Env = p.out, p.errOut, syncworkerEnv()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// wait returns the exit status, failing the test after d.
func (p *process) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("process still running after %v\nstdout:\n%s\nstderr:\n%s", d, p.out, p.errOut)
		return -1
	}
}

// waitFor polls until the process printed want on stdout.
func (p *process) waitFor(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(p.out.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q on stdout:\n%s\nstderr:\n%s", n, want, p.out, p.errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil polls cond, failing the test after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// appendToAll gives every session of sb still going on one more visitor
// message. Ended sessions get none: a platform adds nothing to them, and
// syncworker never asks about them again once closed (SPEC §6).
func appendToAll(t *testing.T, sb *sandbox.Server) {
	t.Helper()
	for _, id := range sb.SessionIDs() {
		if s, _, _ := sb.Session(id); s.Ended() {
			continue
		}
		msg := aggregate.Message{SentAt: time.Now(), Sender: aggregate.Sender{Type: aggregate.SenderVisitor, Name: "V"}, Text: "more"}
		if err := sb.AppendMessages(id, msg); err != nil {
			t.Fatal(err)
		}
	}
}

// everySecond rewrites the tenant file's schedule to every second.
func everySecond(t *testing.T, file string) {
	b, _ := os.ReadFile(file)
	os.WriteFile(file, bytes.Replace(b, []byte(`"* * * * *"`), []byte(`"* * * * * *"`), 1), 0o600)
}

// slowTenant serves 40 sessions with 40 ms on every request, and a tenant
// for them with two workers: a pass takes seconds, and its discovery hands
// out cards until the last worker is free, so a signal after the first
// writes arrives while discovery is still going on.
func slowTenant(t *testing.T) (sb *sandbox.Server, dir, file string) {
	sb, addr := newSandbox(t, 40, sandbox.Options{})
	sb.SetFaults(sandbox.Everywhere(sandbox.Fault{Latency: 40 * time.Millisecond}))
	dir = t.TempDir()
	file = writeConfig(t, dir, "acme", addr, "sync:\n  concurrency: 2\n")
	unlimited(t, file) // the latency and the two workers make the pass slow, not the ceilings
	everySecond(t, file)
	return sb, dir, file
}

// sigtermAfterWrites waits for two more writes than ESM had seen at
// patches, then sends p SIGTERM.
func sigtermAfterWrites(t *testing.T, p *process, sb *sandbox.Server, patches int) {
	t.Helper()
	waitUntil(t, "two writes of the pass", func() bool { return sb.Count(sandbox.RoutePatchCard) >= patches+2 })
	p.cmd.Process.Signal(syscall.SIGTERM)
}

// checkInterruptedPass checks what a pass stopped by SIGTERM left: it said
// interrupted=true, every write that reached ESM had its cursor committed,
// the run is recorded as finished and interrupted, and status shows it.
func checkInterruptedPass(t *testing.T, p *process, sb *sandbox.Server, dir, file string) {
	t.Helper()
	if !strings.Contains(p.out.String(), "interrupted=true") {
		t.Errorf("the summary line does not say the pass was interrupted:\n%s", p.out)
	}
	s, err := state.Open(filepath.Join(dir, "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sb.SessionCards() {
		st, ok, _ := s.Session(context.Background(), c.Text("chat_session_id"))
		n, written := c.Number("message_count")
		if written && (!ok || float64(st.Stored) < n) {
			t.Errorf("card %s shows %v messages but %d are stored: a write without its commit", c.ID, n, st.Stored)
		}
	}
	if runs, _ := s.Runs(context.Background(), 1); runs[0].Finished.IsZero() || !runs[0].Interrupted {
		t.Errorf("the pass running at SIGTERM was not recorded as finished and interrupted: %+v", runs[0])
	}
	s.Close()
	if r := run(t, "status", "-config", file); !strings.Contains(r.stdout, "interrupted=true") {
		t.Errorf("status does not show the interrupted run:\n%s", r.stdout)
	}
}

// TestProcess_SIGTERMDuringOnceFinishesWritesAndExits1: a signal in the
// middle of `once` lets the writes in flight finish and commit, starts no
// more, and exits 1, so that a pass that did not look at every session
// never passes for complete.
func TestProcess_SIGTERMDuringOnceFinishesWritesAndExits1(t *testing.T) {
	t.Parallel()
	sb, dir, file := slowTenant(t)
	p := start(t, "once", "-config", file)
	sigtermAfterWrites(t, p, sb, 0)
	if code := p.wait(t, 30*time.Second); code != exitPartial {
		t.Fatalf("exit %d after SIGTERM, want 1\n%s", code, p.errOut)
	}
	checkInterruptedPass(t, p, sb, dir, file)
	if sb.Count(sandbox.RoutePatchCard) >= len(sb.SessionCards()) {
		t.Errorf("every card was written: the signal came too late to interrupt the pass")
	}
	sb.SetFaults(sandbox.Faults{}) // the next pass need not be slow
	if r := run(t, "once", "-config", file); r.code != exitOK || strings.Contains(r.stdout, "interrupted") {
		t.Errorf("the next pass: exit %d, %s", r.code, r.stdout)
	}
}

// TestProcess_SIGTERMDuringRunFinishesWritesAndExits0: `run` stops the
// same way, but a signal is how a long-running worker ends: exit 0.
func TestProcess_SIGTERMDuringRunFinishesWritesAndExits0(t *testing.T) {
	t.Parallel()
	sb, dir, file := slowTenant(t)
	slow := sb.Faults()
	sb.SetFaults(sandbox.Faults{}) // only the pass the signal interrupts needs to be slow
	p := start(t, "run", "-config", file, "-stop-timeout", "30s")
	p.waitFor(t, "tenant=acme ", 1)
	// Give the next pass writes to do, and signal while it does them.
	sb.SetFaults(slow)
	patches := sb.Count(sandbox.RoutePatchCard)
	appendToAll(t, sb)
	sigtermAfterWrites(t, p, sb, patches)
	if code := p.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d after SIGTERM\n%s", code, p.errOut)
	}
	checkInterruptedPass(t, p, sb, dir, file)
}

func TestProcess_SecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 15, sandbox.Options{})
	sb.SetFaults(sandbox.Everywhere(sandbox.Fault{Latency: 2 * time.Second}))
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	everySecond(t, file)
	p := start(t, "run", "-config", file, "-stop-timeout", "60s")
	waitUntil(t, "a first request", func() bool { return len(sb.Requests()) > 0 })
	p.cmd.Process.Signal(syscall.SIGTERM)
	// Two signals sent back to back may be delivered as one.
	waitUntil(t, "the first signal to be handled", func() bool { return strings.Contains(p.errOut.String(), "msg=\"stopping:") })
	began := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	code := p.wait(t, 10*time.Second)
	if code == exitOK || time.Since(began) > 5*time.Second {
		t.Errorf("second signal: exit %d after %v; want a prompt non-zero exit", code, time.Since(began))
	}
}

func TestProcess_SecondProcessOnSameStateExits3(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 5, sandbox.Options{})
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "")
	first := start(t, "run", "-config", file)
	waitUntil(t, "the first process to schedule", func() bool { return strings.Contains(first.errOut.String(), "scheduled") })
	second := start(t, "backfill", "-config", file, "-since", "2024-01-01")
	if code := second.wait(t, 30*time.Second); code != exitFatal {
		t.Errorf("second process: exit %d, want 3", code)
	}
	// It names the file, the process holding it and what to do.
	out := second.out.String() + second.errOut.String()
	for _, want := range []string{filepath.Join(dir, "acme.db"), fmt.Sprintf("pid=%d ", first.cmd.Process.Pid),
		`command=\"` + filepath.Base(syncworkerBinary(t)) + ` run\"`, "Stop that process first", "stop run, run the backfill"} {
		if !strings.Contains(out, want) {
			t.Errorf("second process does not say %q:\n%s", want, out)
		}
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if code := first.wait(t, 30*time.Second); code != exitOK {
		t.Errorf("first process: exit %d after SIGTERM", code)
	}
}
