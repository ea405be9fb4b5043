package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// genesysCaseOptions are the options.json of a Genesys-native case: the
// aggregation inputs, and the tenant's chat.customer_email_attribute.
type genesysCaseOptions struct {
	Now                    time.Time `json:"now"`
	Timezone               string    `json:"timezone"`
	MaxActiveAge           string    `json:"max_active_age"`
	ChatLogMaxChars        int       `json:"chat_log_max_chars"`
	CustomerEmailAttribute string    `json:"customer_email_attribute"`
}

// TestPass_GenesysNativeCases syncs the Genesys-native cases of
// testdata/genesys-cloud end to end: the fake serves each case's vendor
// JSON as it is, the adapter reads it, and the card ESM holds must be the
// one computed by hand in card.json. A case with an after/ directory is
// synced once as it is and once more as after/ has it. A last pass must
// write nothing and cost one conversation request (none once closed).
func TestPass_GenesysNativeCases(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "genesys-cloud", "*", "card.json"))
	if err != nil || len(dirs) < 5 {
		t.Fatalf("Genesys cases: %d, %v", len(dirs), err)
	}
	for _, card := range dirs {
		dir := filepath.Dir(card)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			genesysNativeCase(t, dir)
		})
	}
}

func genesysNativeCase(t *testing.T, dir string) {
	var o genesysCaseOptions
	b, err := os.ReadFile(filepath.Join(dir, "options.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("options.json: %v", err)
	}
	extra := fmt.Sprintf("timezone: %s\nsync:\n  chat_log_max_chars: %d\n  max_active_age: %s\n", o.Timezone, o.ChatLogMaxChars, o.MaxActiveAge)
	h := newHarnessWith(t, extra, func(so *sandbox.Options) { so.Platform = sandbox.PlatformGenesys })
	h.now = o.Now
	if o.CustomerEmailAttribute != "" {
		h.cfg.Chat.Genesys.CustomerEmailAttribute = o.CustomerEmailAttribute
		h.reopen()
	}
	fake := h.sb.Genesys()
	if _, err := fake.LoadCase(dir); err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Written != 1 || s.Failed != 0 {
		t.Fatalf("first pass %s, want the card written\n%s", s, h.logs)
	}
	if after := filepath.Join(dir, "after"); exists(after) {
		if err := fake.UpdateCase(after); err != nil {
			t.Fatal(err)
		}
		h.sb.ResetStats()
		if s := h.pass(); s.Written != 1 || s.Failed != 0 {
			t.Fatalf("pass after the change %s, want the card written\n%s", s, h.logs)
		}
		// Only the new message's body is fetched; the one stored is not.
		if n := h.count(sandbox.RouteGenesysMessagesBulk); n != 1 {
			t.Errorf("%d bulk requests after the change, want 1", n)
		}
	}
	var want aggregate.Card
	readJSON(t, filepath.Join(dir, "card.json"), &want)
	checkCard(t, h, want)
	h.sb.ResetStats()
	if s := h.pass(); s.Written != 0 || s.Failed != 0 {
		t.Errorf("idle pass %s, want nothing written", s)
	}
	wantChat := map[string]int{}
	if want.Active {
		wantChat[sandbox.RouteGenesysGetConversation] = 1
	}
	if got := genesysCounts(h); fmt.Sprint(got) != fmt.Sprint(wantChat) {
		t.Errorf("idle pass sent %v to Genesys, want %v", got, wantChat)
	}
}

// genesysCounts are the requests the Genesys fake received, by route.
func genesysCounts(h *harness) map[string]int {
	out := map[string]int{}
	for route, n := range h.sb.Counts() {
		if strings.Contains(route, sandbox.GenesysPrefix+"/") && n > 0 {
			out[route] = n
		}
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
