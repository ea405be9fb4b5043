package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/transcript"
)

// superOfficeDir holds the cases only SuperOffice can express, in its own
// JSON, with hand-computed cards.
var superOfficeDir = filepath.Join("..", "..", "testdata", "superoffice")

func newSuperOfficeHarness(t *testing.T, o transcript.Options) *harness {
	t.Helper()
	extra := fmt.Sprintf("timezone: %s\nsync:\n  chat_log_max_chars: %d\n", o.Timezone, o.ChatLogMaxChars)
	if o.MaxActiveAge != "" {
		extra += "  max_active_age: " + o.MaxActiveAge + "\n"
	}
	return newHarnessWith(t, extra, func(so *sandbox.Options) { so.Platform = sandbox.PlatformSuperOffice })
}

func readOptions(t *testing.T, dir string) transcript.Options {
	t.Helper()
	var o transcript.Options
	readJSON(t, filepath.Join(dir, "options.json"), &o)
	return o
}

// TestPass_SuperOfficeGoldenCards syncs every case of testdata/superoffice
// through the SuperOffice adapter and fake: a chat reopened after it was
// Finished, one closed from the queue, the bot's alone, an offline form, a
// transfer. A case with a before/ stage is synced at that stage first, as
// a worker following the chat would; each stage's card is checked.
func TestPass_SuperOfficeGoldenCards(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(superOfficeDir)
	if err != nil || len(entries) < 5 {
		t.Fatalf("SuperOffice cases: %d, %v", len(entries), err)
	}
	for _, e := range entries {
		dir := filepath.Join(superOfficeDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			h := newSuperOfficeHarness(t, readOptions(t, dir))
			main, err := sandbox.ReadSuperOfficeCase(dir)
			if err != nil {
				t.Fatal(err)
			}
			before := filepath.Join(dir, "before")
			if _, err := os.Stat(before); err == nil {
				stage, err := sandbox.ReadSuperOfficeCase(before)
				if err != nil {
					t.Fatal(err)
				}
				stage.Associates, stage.Persons = main.Associates, main.Persons
				syncStage(t, h, stage, before)
			}
			syncStage(t, h, main, dir)
			if s := h.pass(); s.Written != 0 || s.Failed != 0 {
				t.Errorf("a pass after the last stage: %s, want nothing written", s)
			}
		})
	}
}

// syncStage puts c, runs a pass at the stage's now and checks the card
// against dir/card.json.
func syncStage(t *testing.T, h *harness, c sandbox.SuperOfficeCase, dir string) {
	t.Helper()
	o := readOptions(t, dir)
	h.mu.Lock()
	h.now = o.Now
	h.mu.Unlock()
	id, err := h.sb.PutSuperOfficeCase(c)
	if err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Written != 1 || s.Failed != 0 {
		t.Fatalf("%s: summary %s, want one card written\n%s", dir, s, h.logs)
	}
	var want aggregate.Card
	readJSON(t, filepath.Join(dir, "card.json"), &want)
	if got := h.card(id).Text(h.cfg.ESM.Attributes.SessionID); got != want.SessionID {
		t.Errorf("%s: the card holds session %q, want %q", dir, got, want.SessionID)
	}
	want.SessionID = id
	checkCard(t, h, want)
}

// A Finished session keeps its card active, without an end time, while
// the customer may reopen it; once chat.reopen_grace is over it is closed
// with WhenEnded, though nothing changed in SuperOffice.
func TestPass_SuperOfficeFinishedClosesAfterGrace(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(superOfficeDir, "reopened-finished")
	o := readOptions(t, filepath.Join(dir, "before"))
	h := newSuperOfficeHarness(t, o)
	main, err := sandbox.ReadSuperOfficeCase(dir)
	if err != nil {
		t.Fatal(err)
	}
	stage, err := sandbox.ReadSuperOfficeCase(filepath.Join(dir, "before"))
	if err != nil {
		t.Fatal(err)
	}
	stage.Associates, stage.Persons = main.Associates, main.Persons
	syncStage(t, h, stage, filepath.Join(dir, "before"))
	id := sandbox.SuperOfficeDomainID(301)
	a := h.cfg.ESM.Attributes
	h.advance(27 * time.Minute) // 08:39, the grace runs to 08:40:00.5
	if s := h.pass(); s.Written != 0 {
		t.Errorf("inside the grace: %s, want nothing written", s)
	}
	h.advance(2 * time.Minute)
	s := h.pass()
	c := h.card(id)
	end, ok := c.Time(a.EndTime)
	if s.Ended != 1 || c.Text(a.Active) != "No" || !ok || !end.Equal(time.Date(2024, 6, 3, 8, 10, 0, 0, time.UTC)) {
		t.Errorf("after the grace: %s; active %q, end %v", s, c.Text(a.Active), end)
	}
	if n := h.count(sandbox.RouteSOGetSession); n != 3 {
		t.Errorf("%d session reads, want 3: one per pass while the grace ran, then none", n)
	}
	if s := h.pass(); s.Written != 0 || h.count(sandbox.RouteSOGetSession) != 3 {
		t.Errorf("a closed session was read again: %s", s)
	}
}

// TestPass_SuperOfficeFollowsTransfers syncs each golden case with a
// transfer as a worker that followed it would: first as it stood before
// the first transfer, then whole. The adapter then knows the first agent,
// so the card has the same members and support person as the generic
// platform gives; it differs only as SuperOffice must (transfer notices,
// live chats merged).
func TestPass_SuperOfficeFollowsTransfers(t *testing.T) {
	t.Parallel()
	cases, err := transcript.ReadDir(filepath.Join("..", "..", "testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		agents := stints(c.Session)
		if len(agents) < 2 {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			followTransfer(t, c, agents)
		})
	}
	if n < 5 {
		t.Errorf("%d golden cases with a transfer, want at least 5", n)
	}
}

// stints are the agents of every live chat of s by joining time.
func stints(s aggregate.Session) []aggregate.Agent {
	var all []aggregate.Agent
	for _, lc := range s.LiveChats {
		all = append(all, lc.Agents...)
	}
	slices.SortStableFunc(all, func(a, b aggregate.Agent) int { return a.JoinedAt.Compare(b.JoinedAt) })
	return all
}

func followTransfer(t *testing.T, c transcript.Case, agents []aggregate.Agent) {
	opt, err := c.Options.Aggregate()
	if err != nil {
		t.Fatal(err)
	}
	h := newSuperOfficeHarness(t, c.Options)
	h.now = c.Options.Now
	msgs := aggregate.Normalize(c.Messages)
	full := c.Session
	first, second := agents[0], agents[1].JoinedAt
	stage := full
	stage.Status, stage.EndedAt, stage.LiveChats = aggregate.StatusActive, time.Time{}, nil
	for _, lc := range full.LiveChats {
		lc.Agents = slices.DeleteFunc(slices.Clone(lc.Agents), func(a aggregate.Agent) bool { return a != first })
		stage.LiveChats = append(stage.LiveChats, lc)
	}
	cut := slices.IndexFunc(msgs, func(m aggregate.Message) bool { return !m.SentAt.Before(second) })
	if cut < 0 {
		cut = len(msgs)
	}
	if _, err := h.sb.AddCase(stage, msgs[:cut]); err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if strings.TrimSpace(a.Email) != "" {
			h.sb.AddPerson(a.Name, a.Email)
		}
	}
	if s := h.pass(); s.Written != 1 {
		t.Fatalf("before the transfer: %s\n%s", s, h.logs)
	}
	err = h.sb.UpdateSession(full.ID, func(s *aggregate.Session) { *s = full })
	if err == nil {
		err = h.sb.AppendMessages(full.ID, msgs[cut:]...)
	}
	if err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Written != 1 || s.Failed != 0 {
		t.Fatalf("after the transfer: %s\n%s", s, h.logs)
	}
	sess, _, _ := h.sb.Session(full.ID)
	e, em := h.sb.Express(sess, msgs)
	lc := &e.LiveChats[0]
	known := aggregate.Agent{ID: "followed", Name: strings.TrimSpace(first.Name), Email: strings.TrimSpace(first.Email),
		JoinedAt: lc.ConnectedAt}
	if len(lc.Agents) > 0 && lc.Agents[0].ID == "" {
		lc.Agents[0] = known
	} else {
		lc.Agents = append([]aggregate.Agent{known}, lc.Agents...)
	}
	want := aggregate.Aggregate(e, em, opt)
	want.SessionID = full.ID
	checkCard(t, h, want)

	var generic aggregate.Card
	readJSON(t, filepath.Join(c.Dir, "card.json"), &generic)
	g, _ := json.Marshal([]any{generic.Members, generic.SupportPerson})
	w, _ := json.Marshal([]any{want.Members, want.SupportPerson})
	if string(g) != string(w) {
		t.Errorf("followed from the start, members and support person %s; the generic platform gives %s", w, g)
	}
}

// TestSuperOffice_GoldenDifferences holds the cards SuperOffice gives for
// the golden cases (TestPass_GoldenCards checks the adapter gives them) to
// the differences from the generic platform that
// docs/sources/superoffice.md lists, and no others: a transfer is a
// notice in the transcript, a session read first after a transfer knows
// its first agent by name only, and live chats merge into one.
func TestSuperOffice_GoldenDifferences(t *testing.T) {
	t.Parallel()
	transfer := []string{"chat_log", "members", "message_count"}
	documented := map[string][]string{
		"ccai-transfer":                 transfer,
		"live-chats-out-of-order":       transfer,
		"messy-input":                   transfer,
		"spec-worked-example":           transfer,
		"support-tie":                   transfer,
		"two-live-chats-same-agent":     transfer,
		"first-chat-no-reply-later-yes": {"chat_log", "first_reply_wait", "members", "message_count"},
	}
	cases, err := transcript.ReadDir(filepath.Join("..", "..", "testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		opt, err := c.Options.Aggregate()
		if err != nil {
			t.Fatal(err)
		}
		sb := sandbox.New(sandbox.Options{Platform: sandbox.PlatformSuperOffice})
		s, msgs := sb.Express(c.Session, c.Messages)
		var got, want map[string]json.RawMessage
		b, _ := json.Marshal(aggregate.Aggregate(s, msgs, opt))
		json.Unmarshal(b, &got)
		readJSON(t, filepath.Join(c.Dir, "card.json"), &want)
		var diff []string
		for k, v := range want {
			if k != "session_id" && k != "unknown_senders" && compactJSON(v) != compactJSON(got[k]) {
				diff = append(diff, k)
			}
		}
		slices.Sort(diff)
		if !slices.Equal(diff, documented[c.Name]) {
			t.Errorf("%s: SuperOffice's card differs in %v, docs/sources/superoffice.md says %v", c.Name, diff, documented[c.Name])
		}
	}
}

func compactJSON(b []byte) string {
	var v any
	json.Unmarshal(b, &v)
	out, _ := json.Marshal(v)
	return string(out)
}
