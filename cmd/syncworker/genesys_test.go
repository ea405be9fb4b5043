package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// The benchmark against the Genesys Cloud fake: there is no change
// listing, so an idle pass reads each tracked conversation once and fetches
// no message body; cold, one conversation read and one bulk messages call
// per conversation.
func TestBench_Genesys(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs passes against a sandbox with latency")
	}
	r := run(t, "bench", "-platform", sandbox.PlatformGenesys, "-sessions", "60", "-messages", "5", "-agents", "5",
		"-latency", "1ms", "-baseline", "0", "-memory", "", "-rate", "0", "-log-level", "error")
	if r.code != exitOK {
		t.Fatalf("bench exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	checkBenchRows(t, r.stdout, map[string][]string{
		// sessions, chat list, conversation, messages bulk, esm login, stream, list, PATCH, POST
		"cold":      {"60", "-", "60", "60", "1", "1", "", "60", "0"},
		"warm-idle": {"60", "-", "60", "0", "0", "1", "", "0", "0"},
	})
	if !strings.Contains(r.stdout, sandbox.RouteGenesysToken+": 1") {
		t.Errorf("the cold pass did not take exactly one token:\n%s", r.stdout)
	}
}

// check against Genesys Cloud: the client credentials work and a
// conversation reads; a wrong secret is refused and never printed.
func TestCheck_Genesys(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 3, sandbox.Options{Platform: sandbox.PlatformGenesys})
	dir := t.TempDir()
	file := filepath.Join(dir, "gc.yaml")
	chat := sb.ChatConfig("http://" + addr)
	if err := os.WriteFile(file, []byte(sandboxConfigWith("gc", addr, filepath.Join(dir, "gc.db"), chat)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "check", "-config", file); r.code != exitOK || !strings.Contains(r.stdout, "tenant=gc ok") {
		t.Errorf("check: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	const wrong = "wrong-secret-value"
	bad := strings.Replace(chat, "client_secret: "+sandboxChatToken, "client_secret: "+wrong, 1)
	if bad == chat {
		t.Fatalf("no client_secret in the chat block:\n%s", chat)
	}
	os.WriteFile(file, []byte(sandboxConfigWith("gc", addr, filepath.Join(dir, "gc.db"), bad)), 0o600)
	r := run(t, "check", "-config", file)
	if r.code != exitFatal || !strings.Contains(r.stdout, "refused the credentials") ||
		!strings.Contains(r.stdout, "(chat.client_id, chat.client_secret)") {
		t.Errorf("check with a wrong secret: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, wrong) {
		t.Errorf("check printed the client secret:\n%s\n%s", r.stdout, r.stderr)
	}
}

// Users and external contacts looked up by one process are in the state
// file for the next: a second `once` (a cron job's next run) reads each
// conversation again, Genesys having no change listing, but looks up no
// person.
func TestOnce_GenesysPeopleCachedInState(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 4, sandbox.Options{Platform: sandbox.PlatformGenesys})
	dir := t.TempDir()
	file := filepath.Join(dir, "gc.yaml")
	if err := os.WriteFile(file, []byte(sandboxConfigWith("gc", addr, filepath.Join(dir, "gc.db"), sb.ChatConfig("http://"+addr))), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "once", "-config", file); r.code != exitOK {
		t.Fatalf("first once: exit %d\n%s", r.code, r.stderr)
	}
	first := sb.Counts()
	if first[sandbox.RouteGenesysGetUser] == 0 || first[sandbox.RouteGenesysGetContact] == 0 {
		t.Fatalf("the first pass looked up nobody: %v", first)
	}
	sb.ResetStats()
	if r := run(t, "once", "-config", file); r.code != exitOK {
		t.Fatalf("second once: exit %d\n%s", r.code, r.stderr)
	}
	second := sb.Counts()
	if second[sandbox.RouteGenesysGetConversation] == 0 {
		t.Fatalf("the second pass read no conversation: %v", second)
	}
	if n := second[sandbox.RouteGenesysGetUser] + second[sandbox.RouteGenesysGetContact]; n != 0 {
		t.Errorf("the second process looked up %d people again: %v", n, second)
	}
}
