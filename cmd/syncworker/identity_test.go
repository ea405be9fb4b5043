package main

import (
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestOnce_StateOfAnotherESMIsRefusedUntilReset moves a tenant to another
// ESM and platform while keeping its state file: the old cursors and
// written values would make the new cards look written, so the pass
// refuses before contacting anything, until -reset-state.
func TestOnce_StateOfAnotherESMIsRefusedUntilReset(t *testing.T) {
	t.Parallel()
	a, addrA := newSandbox(t, 6, sandbox.Options{})
	b, addrB := newSandbox(t, 6, sandbox.Options{})
	dir := t.TempDir()
	unlimited(t, writeConfig(t, dir, "acme", addrA, ""))
	if r := run(t, "once", "-config", dir); r.code != exitOK || a.Count(sandbox.RoutePatchCard) == 0 {
		t.Fatalf("first pass against A: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	file := writeConfig(t, dir, "acme", addrB, "")
	unlimited(t, file)
	r := run(t, "once", "-config", file)
	if r.code != exitFatal {
		t.Errorf("exit %d, want 3 for a state bound to another ESM\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"esm.base_url", addrA, addrB, "-reset-state"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, r.stderr)
		}
	}
	if !strings.HasPrefix(r.stdout, "tenant=acme ") || !strings.Contains(r.stdout, "error=") {
		t.Errorf("summary line %q, want the tenant's line with its error", r.stdout)
	}
	if n := len(b.Requests()); n != 0 {
		t.Errorf("%d requests reached B", n)
	}

	r = run(t, "once", "-config", file, "-reset-state")
	if r.code != exitOK {
		t.Fatalf("with -reset-state: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "level=WARN") || !strings.Contains(r.stderr, "written again") {
		t.Errorf("no warning that the state was reset:\n%s", r.stderr)
	}
	for _, c := range b.SessionCards() {
		if _, ok := c.Number("message_count"); !ok {
			t.Errorf("card %s of B was not written", c.ID)
		}
	}
	if r := run(t, "once", "-config", file); r.code != exitOK {
		t.Errorf("the pass after the reset: exit %d\n%s", r.code, r.stderr)
	}
}
