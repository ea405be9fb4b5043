package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// The demo runs against the SuperOffice fake as it does against the
// generic one.
func TestDemo_SuperOffice(t *testing.T) {
	t.Parallel()
	r := run(t, "demo", "-platform", "superoffice")
	if r.code != exitOK || !strings.Contains(r.stdout, "written=5") || !strings.Contains(r.stdout, "chat log of 3") {
		t.Fatalf("demo -platform superoffice: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// The benchmark against the SuperOffice fake: one session read and one
// messages request per session cold (Session hands its messages to
// Messages), one associate and one person lookup per agent, and only the
// archive listing when idle.
func TestBench_SuperOffice(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs passes against a sandbox with latency")
	}
	r := run(t, "bench", "-platform", "superoffice", "-sessions", "60", "-messages", "5", "-agents", "5",
		"-latency", "1ms", "-baseline", "0", "-memory", "", "-rate", "0", "-log-level", "error")
	if r.code != exitOK {
		t.Fatalf("bench exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	checkBenchRows(t, r.stdout, map[string][]string{
		// sessions, chat list, session, messages, esm login, stream, list, PATCH, POST
		"cold":      {"60", "0", "60", "60", "1", "1", "", "60", "0"},
		"warm-idle": {"60", "1", "0", "0", "0", "1", "", "0", "0"},
	})
	if !strings.Contains(r.stdout, sandbox.RouteSOGetAssociate+": 5") {
		t.Errorf("no line of 5 associate lookups:\n%s", r.stdout)
	}
}

// sandbox -platform names the platforms there are when it knows none.
func TestSandbox_UnknownPlatform(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"sandbox", "demo", "bench"} {
		r := run(t, cmd, "-platform", "nope", "-listen", "127.0.0.1:0")
		if cmd != "sandbox" {
			r = run(t, cmd, "-platform", "nope")
		}
		if r.code != exitConfig || !strings.Contains(r.stderr+r.stdout, "superoffice") {
			t.Errorf("%s -platform nope: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}
}

// check against SuperOffice: the credentials work and a session reads.
func TestCheck_SuperOffice(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 3, sandbox.Options{Platform: sandbox.PlatformSuperOffice})
	dir := t.TempDir()
	file := filepath.Join(dir, "so.yaml")
	chat := sb.ChatConfig("http://" + addr)
	if err := os.WriteFile(file, []byte(sandboxConfigWith("so", addr, filepath.Join(dir, "so.db"), chat)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "check", "-config", file); r.code != exitOK || !strings.Contains(r.stdout, "tenant=so ok") {
		t.Errorf("check: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bad := strings.Replace(chat, "token: "+sandboxChatToken, "token: wrong", 1)
	os.WriteFile(file, []byte(sandboxConfigWith("so", addr, filepath.Join(dir, "so.db"), bad)), 0o600)
	r := run(t, "check", "-config", file)
	if r.code != exitFatal || !strings.Contains(r.stdout, "refused the credentials") {
		t.Errorf("check with a wrong token: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
