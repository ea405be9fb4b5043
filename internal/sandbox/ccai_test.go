package sandbox

import (
	"os"
	"strings"
	"testing"
)

// transcriptsDirOf reads transcripts_dir from the tenant's chat block.
func transcriptsDirOf(t *testing.T, s *Server) string {
	t.Helper()
	for _, line := range strings.Split(s.ChatConfig("http://127.0.0.1:9"), "\n") {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "transcripts_dir: "); ok {
			return dir
		}
	}
	t.Fatal("no transcripts_dir in the chat block")
	return ""
}

// The CCAI fake makes a transcripts directory of its own when it is given
// none, and Close removes it; one it was given is the caller's to keep.
func TestCCAI_CloseRemovesItsOwnTranscriptsDir(t *testing.T) {
	t.Parallel()
	s := New(Options{Platform: PlatformCCAI})
	dir := transcriptsDirOf(t, s)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("transcripts dir %s: %v", dir, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after Close, %s: %v; want it removed", dir, err)
	}

	given := t.TempDir()
	s = New(Options{Platform: PlatformCCAI, TranscriptsDir: given})
	if got := transcriptsDirOf(t, s); got != given {
		t.Fatalf("transcripts_dir %s, want %s", got, given)
	}
	s.Close()
	if _, err := os.Stat(given); err != nil {
		t.Errorf("Close removed the directory it was given: %v", err)
	}
}
