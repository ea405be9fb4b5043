package sandbox

import (
	"strings"
	"testing"
)

func TestPlatforms(t *testing.T) {
	if err := CheckPlatform("generic"); err != nil {
		t.Errorf("generic: %v", err)
	}
	err := CheckPlatform("icq")
	if err == nil || !strings.Contains(err.Error(), "generic") {
		t.Errorf("unknown platform: %v, want an error listing the fakes", err)
	}
	s := New(Options{})
	if s.Platform() != PlatformGeneric || s.ChatPath() != ChatPrefix {
		t.Errorf("default platform %q at %q", s.Platform(), s.ChatPath())
	}
	want := "chat:\n  platform: generic\n  base_url: http://127.0.0.1:9/chat/api/v1\n  token: " + DefaultChatToken + "\n"
	if got := s.ChatConfig("http://127.0.0.1:9"); got != want {
		t.Errorf("ChatConfig =\n%s\nwant\n%s", got, want)
	}
}
