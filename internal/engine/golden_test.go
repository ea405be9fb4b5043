package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestPass_GoldenCards syncs every golden transcript of testdata/golden
// through the sandbox and checks that the card ESM holds has the values
// the aggregation golden file predicts.
func TestPass_GoldenCards(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*", "card.json"))
	if err != nil || len(dirs) < 12 {
		t.Fatalf("golden cases: %d, %v", len(dirs), err)
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var opt struct {
				Now             time.Time `json:"now"`
				Timezone        string    `json:"timezone"`
				MaxActiveAge    string    `json:"max_active_age"`
				ChatLogMaxChars int       `json:"chat_log_max_chars"`
			}
			var want aggregate.Card
			readJSON(t, filepath.Join(dir, "options.json"), &opt)
			readJSON(t, p, &want)
			extra := fmt.Sprintf("timezone: %s\nsync:\n  chat_log_max_chars: %d\n", opt.Timezone, opt.ChatLogMaxChars)
			if opt.MaxActiveAge != "" {
				extra += "  max_active_age: " + opt.MaxActiveAge + "\n"
			}
			h := newHarness(t, extra)
			h.now = opt.Now
			if _, err := h.sb.LoadDir(dir); err != nil {
				t.Fatal(err)
			}
			s := h.pass()
			if s.Written != 1 || s.Failed != 0 {
				t.Fatalf("summary %s, want one card written\n%s", s, h.logs)
			}
			checkCard(t, h, want)
		})
	}
}

// checkCard compares the card of want.SessionID in the sandbox with want.
func checkCard(t *testing.T, h *harness, want aggregate.Card) {
	t.Helper()
	checkCardValues(t, h, h.card(want.SessionID), want)
}

// checkCardValues compares card c with the values of want.
func checkCardValues(t *testing.T, h *harness, c sandbox.Card, want aggregate.Card) {
	t.Helper()
	a := h.cfg.ESM.Attributes
	eq := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	eq("chat_log", c.Text(a.ChatLog), want.ChatLog)
	eq("message_count", c.Text(a.MessageCount), strconv.Itoa(want.MessageCount))
	eq("start_time", timeText(c.Time(a.StartTime)), want.StartTime.UTC().Format(time.RFC3339))
	wantEnd := ""
	if want.EndTime != nil {
		wantEnd = want.EndTime.UTC().Format(time.RFC3339)
	}
	eq("end_time", timeText(c.Time(a.EndTime)), wantEnd)
	wantWait := ""
	if want.FirstReplyWait != nil {
		wantWait = strconv.FormatInt(*want.FirstReplyWait, 10)
	}
	eq("first_reply_wait", c.Text(a.FirstReplyWait), wantWait)
	wantActive := map[bool]string{true: "Yes", false: "No"}[want.Active]
	eq("is_chat_active", c.Text(a.Active), wantActive)
	eq("is_chat_active code", c.Code(a.Active), strings.ToLower(wantActive))
	eq("customer", strings.ToLower(h.email(c.Ref(a.Customer))), emailOf(want.Customer))
	eq("support_person", strings.ToLower(h.email(c.Ref(a.SupportPerson))), emailOf(want.SupportPerson))
	var gotMembers, wantMembers []string
	for _, id := range c.Refs(a.Members) {
		gotMembers = append(gotMembers, strings.ToLower(h.email(id)))
	}
	for _, m := range want.Members {
		if m.Email != "" { // no email: no Person card to refer to
			wantMembers = append(wantMembers, m.Email)
		}
	}
	eq("members", strings.Join(gotMembers, ","), strings.Join(wantMembers, ","))
}

func emailOf(id *aggregate.Identity) string {
	if id == nil {
		return ""
	}
	return id.Email
}

func timeText(t time.Time, ok bool) string {
	if !ok {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
