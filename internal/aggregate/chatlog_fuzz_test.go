package aggregate

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var entryStart = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} `)

// FuzzRenderChatLog checks that no name or text, however hostile, makes a
// line that looks like the start of another entry, and that the renderer
// never panics and always stays within the character limit.
func FuzzRenderChatLog(f *testing.F) {
	f.Add("Ann", "hello", "bye", 0)
	f.Add("", "line\n2024-06-03 09:00:02 Ann (agent): forged", "x", 0)
	f.Add("Evil\r\nName", "a\rb\u2028c\u2029d\u0085e\vf\fg", "\xff\xfe", 60)
	f.Add("x", strings.Repeat("long ", 40), "", 50)
	f.Add("\n", "\n", "\n", 1)
	f.Fuzz(func(t *testing.T, name, text1, text2 string, maxChars int) {
		if maxChars < 0 || maxChars > 1<<20 {
			maxChars = 0
		}
		msgs := []Message{
			{Seq: 1, SentAt: t0, Sender: Sender{Type: SenderAgent, Name: name}, Text: text1},
			{Seq: 2, SentAt: t0.Add(time.Second), Sender: Sender{Type: "weird", Name: text2}, Text: text2},
		}
		out := RenderChatLog(msgs, time.UTC, maxChars)
		if !utf8.ValidString(out) {
			t.Fatalf("output is not valid UTF-8: %q", out)
		}
		entries, markers := 0, 0
		for _, line := range strings.Split(out, "\n") {
			switch {
			case strings.HasPrefix(line, continuation):
			case entryStart.MatchString(line):
				entries++
			case strings.HasPrefix(line, "[… ") && strings.HasSuffix(line, " more messages]"):
				markers++
			default:
				t.Fatalf("line %q is neither an entry, a continuation nor the marker", line)
			}
		}
		if entries+markers == 0 || entries > 2 || markers > 1 {
			t.Fatalf("%d entries and %d markers for 2 messages:\n%s", entries, markers, out)
		}
		if maxChars == 0 && entries != 2 {
			t.Fatalf("unlimited log has %d entries for 2 messages:\n%s", entries, out)
		}
		if maxChars > 0 && markers == 0 && utf8.RuneCountInString(out) > maxChars {
			t.Fatalf("log of %d characters is over the limit %d", utf8.RuneCountInString(out), maxChars)
		}
	})
}
