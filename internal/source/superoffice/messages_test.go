package superoffice_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/superoffice"
)

// TestMessages_Senders applies the Type and SpecialType rules of SPEC
// §4.3.1, by name and by number.
func TestMessages_Senders(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["7"] = so(7, map[string]any{"WhenStarted": "2024-06-03T09:02:00Z"})
	before, after := "2024-06-03T09:01:00Z", "2024-06-03T09:03:00Z"
	tests := []struct {
		typ, special any
		author       string
		posted       string
		want         aggregate.SenderType
		name         string
	}{
		{"ToUser", "None", "Maija", after, aggregate.SenderVisitor, "Maija"},
		{"ToCustomer", "None", "Ann", after, aggregate.SenderAgent, "Ann"},
		{"ToCustomer", "None", "Echobot", before, aggregate.SenderBot, "Echobot"},
		{"ToCustomer", "BotMessage", "Botti", after, aggregate.SenderBot, "Botti"},
		{"ToCustomer", "None", " helper BOT ", after, aggregate.SenderBot, "helper BOT"},
		{"Special", "ClosedByUser", "", after, aggregate.SenderSystem, "system"},
		{"Special", "Welcome", "SuperOffice", after, aggregate.SenderSystem, "SuperOffice"},
		{"Special", "ClickedOption", "Maija", after, aggregate.SenderVisitor, "Maija"},
		{2, 0, "Maija", after, aggregate.SenderVisitor, "Maija"},
		{"1", "16", "Botti", after, aggregate.SenderBot, "Botti"},
		{3, 15, "Maija", after, aggregate.SenderSystem + "", "Maija"}, // replaced below
		{"Invalid", "None", "", after, aggregate.SenderSystem, "system"},
		{"Shout", "None", "Odd", after, aggregate.SenderSystem, "Odd"},
		{"ToCustomer", "Sparkle", "Ann", after, aggregate.SenderAgent, "Ann"},
		{"Special", "Deleted", "", after, aggregate.SenderSystem, "system"},
	}
	tests[10].want = aggregate.SenderVisitor
	for i, tt := range tests {
		w.messages["7"] = append(w.messages["7"], msg(100+i, 7, tt.typ, tt.special, tt.author, "text", tt.posted))
	}
	var logs bytes.Buffer
	c := w.client(nil, &logs, func(o *superoffice.Options) { o.BotNames = []string{"Helper bot"} })
	got, cursor, err := c.Messages(ctx, "7", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(tests) || cursor != "114" {
		t.Fatalf("%d messages, cursor %q; want %d, 114", len(got), cursor, len(tests))
	}
	for i, tt := range tests {
		if g := got[i]; g.Sender.Type != tt.want || g.Sender.Name != tt.name || g.LiveChatID != "7" || g.Seq != int64(100+i) {
			t.Errorf("Type %v SpecialType %v by %q: %s %q in %q seq %d; want %s %q", tt.typ, tt.special, tt.author,
				g.Sender.Type, g.Sender.Name, g.LiveChatID, g.Seq, tt.want, tt.name)
		}
	}
	for _, want := range []string{`Type="\"Shout\""`, `SpecialType="\"Sparkle\""`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning with %s: %s", want, logs.String())
		}
	}
}

// Messages reads the acceptance time it needs when Session did not, and
// a Session followed by Messages asks SuperOffice for the messages once.
func TestMessages_AfterSessionOneRequest(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["7"] = so(7, map[string]any{"WhenStarted": "2024-06-03T09:02:00Z"})
	w.messages["7"] = []string{msg(1, 7, "ToCustomer", "None", "Ann", "hi", "2024-06-03T09:03:00Z")}
	c := w.client(nil, nil)
	if _, err := c.Session(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	got, cursor, err := c.Messages(ctx, "7", "")
	if err != nil || len(got) != 1 || cursor != "1" || got[0].Sender.Type != aggregate.SenderAgent {
		t.Fatalf("Messages after Session: %+v, %q, %v", got, cursor, err)
	}
	if n := w.hit("ChatSession/Messages"); n != 1 {
		t.Errorf("%d message requests for one Session and Messages, want 1", n)
	}
	w.messages["7"] = append(w.messages["7"], msg(2, 7, "ToUser", "None", "Maija", "thanks", "2024-06-03T09:04:00Z"))
	got, cursor, err = c.Messages(ctx, "7", cursor)
	if err != nil || len(got) != 1 || cursor != "2" {
		t.Fatalf("Messages with no Session before: %+v, %q, %v", got, cursor, err)
	}
	if none, c3, err := c.Messages(ctx, "7", cursor); err != nil || len(none) != 0 || c3 != "2" {
		t.Errorf("Messages after the last: %d, %q, %v; want none and the same cursor", len(none), c3, err)
	}
}

func TestMessages_BadInput(t *testing.T) {
	t.Parallel()
	ok := msg(5, 7, "ToUser", "None", "Maija", "hi", "2024-06-03T09:03:00Z")
	tests := []struct {
		name   string
		msgs   []string
		after  string
		ignore bool
		says   []string
	}{
		{"no WhenPosted", []string{msg(5, 7, "ToUser", "None", "Maija", "hi", nil)}, "", false,
			[]string{"session 7", "message 5", "WhenPosted missing"}},
		{"WhenPosted not a time", []string{msg(5, 7, "ToUser", "None", "Maija", "hi", "soon")}, "", false,
			[]string{"session 7", "ChatMessageId 5", "WhenPosted", "soon"}},
		{"after not honoured", []string{ok, msg(9, 7, "ToUser", "None", "Maija", "again", "2024-06-03T09:04:00Z")},
			"5", true, []string{"session 7", "after=5", "ChatMessageId 5", "already"}},
		{"an id twice", []string{ok, ok}, "", false, []string{"session 7", "ChatMessageId 5", "twice"}},
		{"no id", []string{msg(0, 7, "ToUser", "None", "Maija", "hi", "2024-06-03T09:03:00Z")}, "", true,
			[]string{"session 7", "no ChatMessageId"}},
		{"another session", []string{msg(5, 8, "ToUser", "None", "Maija", "hi", "2024-06-03T09:03:00Z")}, "", false,
			[]string{"session 7", "message 5", "ChatSessionId is 8"}},
		{"Type an object", []string{strings.Replace(ok, `"Type":"ToUser"`, `"Type":{}`, 1)}, "", false,
			[]string{"session 7", "Type"}},
	}
	for _, tt := range tests {
		w := newWire(t)
		w.sessions["7"] = so(7, nil)
		w.messages["7"] = tt.msgs
		w.ignoreAfter = tt.ignore
		_, _, err := w.client(nil, nil).Messages(ctx, "7", tt.after)
		if !errors.Is(err, source.ErrInvalid) {
			t.Errorf("%s: %v, want source.ErrInvalid", tt.name, err)
			continue
		}
		for _, s := range tt.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %q", tt.name, err, s)
			}
		}
	}
}

// Times come with any offset and up to seven fractional digits; one
// without an offset is UTC.
func TestMessages_Times(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["7"] = so(7, nil)
	w.messages["7"] = []string{msg(1, 7, "ToUser", "None", "M", "a", "2024-07-28T14:28:26.7739511+02:00"),
		msg(2, 7, "ToUser", "None", "M", "b", "2024-07-28T12:28:27"),
		msg(3, 7, "ToUser", "None", "M", "c", "2024-07-28T12:28:28Z")}
	got, _, err := w.client(nil, nil, func(o *superoffice.Options) {
		o.Now = func() time.Time { return time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC) }
	}).Messages(ctx, "7", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{time.Date(2024, 7, 28, 12, 28, 26, 773951100, time.UTC), time.Date(2024, 7, 28, 12, 28, 27, 0, time.UTC),
		time.Date(2024, 7, 28, 12, 28, 28, 0, time.UTC)}
	for i := range want {
		if !got[i].SentAt.Equal(want[i]) {
			t.Errorf("message %d sent at %v, want %v", i, got[i].SentAt, want[i])
		}
	}
}
