package main

import (
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestDemo_Platform runs the demo against the Genesys Cloud fake: the same
// five sessions reach their cards through that platform's adapter.
func TestDemo_Platform(t *testing.T) {
	t.Parallel()
	r := run(t, "demo", "-platform", sandbox.PlatformGenesys)
	if r.code != exitOK {
		t.Fatalf("demo exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"tenant=demo sessions=5 written=5", "Bob Builder", "45 s", "  |   Which office are you in?"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, "demo", "-platform", "icq"); r.code != exitConfig || !strings.Contains(r.stderr, "genesys-cloud") {
		t.Errorf("unknown platform: exit %d, %s", r.code, r.stderr)
	}
}

// TestSandboxConfigFor prints the generic tenant file unchanged and
// another platform's with that platform's chat block.
func TestSandboxTenantOfEachPlatform(t *testing.T) {
	t.Parallel()
	for _, name := range sandbox.Platforms() {
		sb := sandbox.New(sandbox.Options{Platform: name, ChatToken: sandboxChatToken})
		t.Cleanup(func() { sb.Close() })
		cfg, err := sandboxTenant("x", "127.0.0.1:9", t.TempDir(), sb.ChatConfig("http://127.0.0.1:9"), "")
		if err != nil {
			t.Errorf("%s: the tenant file does not parse: %v", name, err)
			continue
		}
		if cfg.Chat.Platform != name {
			t.Errorf("%s: chat.platform = %s", name, cfg.Chat.Platform)
		}
	}
}
