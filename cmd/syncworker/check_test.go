package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// TestCheck_MissingTemplateIsAConfigProblem: an ESM without the configured
// template is a problem of esm.template, exit 1 as the README says, not a
// fatal ESM error.
func TestCheck_MissingTemplateIsAConfigProblem(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 0, sandbox.Options{Template: "chat_card"})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	r := run(t, "check", "-config", file)
	want := `tenant=acme problem: esm.template: ESM has no template "chat_session"`
	if r.code != exitPartial || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "ESM: ") {
		t.Errorf("exit %d, %q; want 1 and %q", r.code, r.stdout, want)
	}
}

// TestCheck_WarningsKeepTheOKLine: a literal secret in a file others can
// read, and secret files others can read, are warning: lines; the tenant
// is still ok.
func TestCheck_WarningsKeepTheOKLine(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 0, sandbox.Options{})
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "esm-password")
	os.WriteFile(pwFile, []byte(sandboxPassword+"\n"), 0o600)
	os.Chmod(pwFile, 0o644)
	yaml := strings.Replace(string(b), "password: "+sandboxPassword, "password_file: "+pwFile, 1)
	if yaml == string(b) {
		t.Fatalf("the tenant file has no literal password to replace:\n%s", b)
	}
	os.WriteFile(file, []byte(yaml), 0o600)
	os.Chmod(file, 0o644)
	r := run(t, "check", "-config", file)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != exitOK || len(lines) != 3 || lines[2] != "tenant=acme ok" {
		t.Fatalf("exit %d, %q; want 0, two warnings and the ok line", r.code, r.stdout)
	}
	for i, want := range []string{"tenant=acme warning: " + file + " holds chat.token literally and is readable by others (mode 0644)",
		"tenant=acme warning: esm.password_file: " + pwFile + " is readable by others (mode 0644): chmod 600 it"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i], want)
		}
	}
	if strings.Contains(r.stdout+r.stderr, sandboxPassword) {
		t.Error("the password reached the output")
	}
}

// TestCheck_StatePath: a state path that cannot be created, or a state
// file another process holds, is a problem (exit 3); check creates no
// state file.
func TestCheck_StatePath(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 0, sandbox.Options{})
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "")
	if r := run(t, "check", "-config", file); r.code != exitOK {
		t.Fatalf("check: exit %d, %q", r.code, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "acme.db")); !os.IsNotExist(err) {
		t.Errorf("check created the state file (or: %v)", err)
	}
	held, err := state.Open(filepath.Join(dir, "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, "check", "-config", file)
	held.Close()
	if r.code != exitFatal || !strings.Contains(r.stdout, "tenant=acme problem: state_path: state file is in use by another syncworker process") ||
		!strings.Contains(r.stdout, "held by the process with pid=") {
		t.Errorf("held state: exit %d, %q; want 3 naming the holder", r.code, r.stdout)
	}

	blocker := filepath.Join(dir, "not-a-dir")
	os.WriteFile(blocker, nil, 0o600)
	b, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(b), "state_path: "+filepath.Join(dir, "acme.db"),
		"state_path: "+filepath.Join(blocker, "state", "acme.db"), 1)), 0o600)
	r = run(t, "check", "-config", file)
	if r.code != exitFatal || !strings.Contains(r.stdout, "state_path: state "+filepath.Join(blocker, "state", "acme.db")+": "+blocker+" is not a directory") {
		t.Errorf("uncreatable state path: exit %d, %q", r.code, r.stdout)
	}
}
