package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/config"
)

// TestOpenTenant_CredentialsStamp: the engine is told when the ESM
// credentials may have changed (the tenant file or the password file was
// edited), without being given the password or anything made from it.
func TestOpenTenant_CredentialsStamp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "esm-password")
	if err := os.WriteFile(pwFile, []byte(sandboxPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, dir, "acme", "127.0.0.1:1", "")
	body, _ := os.ReadFile(file)
	body = []byte(strings.Replace(string(body), "password: "+sandboxPassword, "password_file: "+pwFile, 1))
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	load := func() *config.Config {
		cfgs, err := config.LoadAll([]string{file})
		if err != nil {
			t.Fatal(err)
		}
		return cfgs[0]
	}
	p := &Program{Stdout: &lockedBuffer{}, Stderr: &lockedBuffer{}, Now: time.Now, logger: slog.New(slog.DiscardHandler)}
	tn, err := p.openTenant(context.Background(), load(), opening{})
	if err != nil {
		t.Fatal(err)
	}
	first := tn.creds
	tn.Close()
	if first == "" || first != credentialsStamp(load()) {
		t.Fatalf("engine got stamp %q, want %q", first, credentialsStamp(load()))
	}
	if strings.Contains(first, sandboxPassword) {
		t.Fatalf("stamp %q holds the password", first)
	}

	// A new password of the same length, written a second later.
	later := time.Now().Add(time.Second)
	if err := os.WriteFile(pwFile, []byte(strings.ToUpper(sandboxPassword)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(pwFile, later, later); err != nil {
		t.Fatal(err)
	}
	second := credentialsStamp(load())
	if second == first {
		t.Errorf("stamp %q did not change with the password file", second)
	}
	later = later.Add(time.Second)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	if third := credentialsStamp(load()); third == second {
		t.Errorf("stamp %q did not change with the tenant file", third)
	}
	if again := credentialsStamp(load()); again != credentialsStamp(load()) {
		t.Errorf("stamp changes with nothing edited: %q", again)
	}
}
