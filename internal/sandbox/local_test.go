package sandbox

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"testing"
	"time"
)

func TestServeLocal(t *testing.T) {
	t.Parallel()
	l, err := ServeLocal(New(Options{}), "syncworker-test-")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + l.Addr + "/rest-api/itsm/v1/dc/chat_session/data")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ESM without a token: %d, want 401", resp.StatusCode)
	}
	if fi, err := os.Stat(l.Dir); err != nil || !fi.IsDir() {
		t.Fatalf("state directory %s: %v", l.Dir, err)
	}
	l.Close()
	if _, err := os.Stat(l.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state directory left behind: %v", err)
	}
	// Whether the port still answers is not checked: a parallel test may
	// already have been given it.
}
