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
	"github.com/syncworker/syncworker/internal/transcript"
)

// TestPass_GoldenCards syncs every golden transcript of testdata/golden
// through every chat platform the sandbox fakes, each with its own adapter,
// and checks the card ESM holds. For the generic platform that is the card
// the aggregation golden file predicts; for another, the aggregation of
// what that platform can express of the case (Server.Express, documented
// per platform under docs/sources).
func TestPass_GoldenCards(t *testing.T) {
	t.Parallel()
	cases, err := transcript.ReadDir(filepath.Join("..", "..", "testdata", "golden"))
	if err != nil || len(cases) < 12 {
		t.Fatalf("golden cases: %d, %v", len(cases), err)
	}
	for _, platform := range sandbox.Platforms() {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { goldenCase(t, platform, c) })
			}
		})
	}
}

func goldenCase(t *testing.T, platform string, c transcript.Case) {
	opt, err := c.Options.Aggregate()
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf("timezone: %s\nsync:\n  chat_log_max_chars: %d\n", c.Options.Timezone, c.Options.ChatLogMaxChars)
	if c.Options.MaxActiveAge != "" {
		extra += "  max_active_age: " + c.Options.MaxActiveAge + "\n"
	}
	h := newHarnessWith(t, extra, func(o *sandbox.Options) { o.Platform = platform })
	h.now = c.Options.Now
	var want aggregate.Card
	readJSON(t, filepath.Join(c.Dir, "card.json"), &want)
	if platform != sandbox.PlatformGeneric {
		s, msgs := h.sb.Express(c.Session, c.Messages)
		want = aggregate.Aggregate(s, msgs, opt)
	}
	if _, err := h.sb.LoadDir(c.Dir); err != nil {
		t.Fatal(err)
	}
	s := h.pass()
	if s.Written != 1 || s.Failed != 0 {
		t.Fatalf("summary %s, want one card written\n%s", s, h.logs)
	}
	checkCard(t, h, want)
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
	count := strconv.Itoa(want.MessageCount)
	if want.TranscriptMissing {
		count = "" // no value, not 0
	}
	eq("chat_log", c.Text(a.ChatLog), want.ChatLog)
	eq("message_count", c.Text(a.MessageCount), count)
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
