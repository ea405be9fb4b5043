package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/transcript"
)

// serveEvents points the CCAI Platform fake's webhook at the receiver of
// the harness's current source, as run -listen would serve it.
func (h *harness) serveEvents() {
	fake := h.sb.CCAI()
	if fake == nil {
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		events := h.events
		h.mu.Unlock()
		if events == nil {
			http.NotFound(w, r)
			return
		}
		events.ServeHTTP(w, r)
	}))
	h.t.Cleanup(srv.Close)
	fake.SetWebhook(srv.URL, "")
}

func newCCAIHarness(t *testing.T, extra string) *harness {
	t.Helper()
	dir := t.TempDir()
	return newHarnessWith(t, extra, func(o *sandbox.Options) {
		o.Platform, o.TranscriptsDir = sandbox.PlatformCCAI, dir
	})
}

// ccaiCase loads the golden case name into the harness, after faults.
func ccaiCase(t *testing.T, h *harness, name string) (transcript.Case, aggregate.Card) {
	t.Helper()
	c, err := transcript.ReadCase(filepath.Join("..", "..", "testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	h.now = c.Options.Now
	opt, _ := c.Options.Aggregate()
	s, msgs := h.sb.Express(c.Session, c.Messages)
	return c, aggregate.Aggregate(s, msgs, opt)
}

// TestPass_CCAIFaultyWebhook sends the transfer case's events twice, latest
// first, beside forged ones, with the transcript half written at first:
// the card must be the one the events and the whole transcript give, and
// the forged events refused.
func TestPass_CCAIFaultyWebhook(t *testing.T) {
	t.Parallel()
	h := newCCAIHarness(t, "timezone: America/Los_Angeles\n")
	fake := h.sb.CCAI()
	fake.SetFaults(sandbox.CCAIFaults{Duplicates: true, OutOfOrder: true, Forged: true, HalfWritten: true})
	c, want := ccaiCase(t, h, "ccai-transfer")
	if _, err := h.sb.LoadDir(c.Dir); err != nil {
		t.Fatal(err)
	}
	st := fake.Stats()
	if st.Refused == 0 || st.Accepted != st.Sent || st.Sent < 8 || st.Failed != 0 {
		t.Fatalf("webhook stats %+v: want every signed event accepted, forged ones refused", st)
	}
	// Half a transcript is not there yet: the chat has ended, but its card
	// stays active without a log.
	if s := h.pass(); s.Written != 1 || s.Ended != 0 || s.Failed != 0 {
		t.Fatalf("pass with half a transcript: %s\n%s", s, h.logs)
	}
	card := h.card(want.SessionID)
	if got := card.Text(h.cfg.ESM.Attributes.ChatLog); got != "" {
		t.Errorf("log from half a transcript: %q", got)
	}
	if err := fake.Publish(); err != nil { // the rest of the file
		t.Fatal(err)
	}
	if s := h.pass(); s.Ended != 1 || s.Failed != 0 {
		t.Fatalf("pass with the whole transcript: %s\n%s", s, h.logs)
	}
	checkCard(t, h, want)
	if want.FirstReplyWait == nil || *want.FirstReplyWait != 41 {
		t.Errorf("expressed first reply wait %v, want 41 (the transcript's whole seconds)", want.FirstReplyWait)
	}
}

// TestPass_CCAIWithoutEvents syncs the transfer case from the Apps API and
// the transcript alone, as cron once does: the card is the one the
// platform expresses without events, and every pass asks for the chat.
func TestPass_CCAIWithoutEvents(t *testing.T) {
	t.Parallel()
	h := newCCAIHarness(t, "timezone: America/Los_Angeles\n")
	h.sb.CCAI().SetWebhook("", "")
	h.cfg.Chat.CCAI.EventsSecrets = nil // no receiver: the source polls
	h.reopen()
	c, want := ccaiCase(t, h, "ccai-transfer")
	sess := c.Session
	sess.Status, sess.EndedAt = aggregate.StatusActive, time.Time{}
	if _, err := h.sb.AddCase(sess, c.Messages); err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Written != 1 || s.Failed != 0 {
		t.Fatalf("first pass %s\n%s", s, h.logs)
	}
	before := h.count(sandbox.RouteCCAIGetChat)
	if s := h.pass(); s.Written != 0 || h.count(sandbox.RouteCCAIGetChat) != before+1 {
		t.Errorf("idle pass %s asked for the chat %d times, want once", s, h.count(sandbox.RouteCCAIGetChat)-before)
	}
	if err := h.sb.EndSession(sess.ID, c.Session.EndedAt); err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Ended != 1 {
		t.Fatalf("pass after the end %s\n%s", s, h.logs)
	}
	checkCard(t, h, want)
	if got := h.email(h.card(want.SessionID).Ref(h.cfg.ESM.Attributes.SupportPerson)); got != "ajay1@example.com" {
		t.Errorf("support person %q, want the agent listed last", got)
	}
}

// TestPass_CCAITranscriptWait closes an ended chat whose transcript never
// comes once chat.transcript_wait has passed, and ignores a later one.
func TestPass_CCAITranscriptWait(t *testing.T) {
	t.Parallel()
	h := newCCAIHarness(t, "timezone: America/Los_Angeles\n")
	c, _ := ccaiCase(t, h, "ccai-transfer")
	h.sb.CCAI().SetFaults(sandbox.CCAIFaults{HalfWritten: true})
	if _, err := h.sb.LoadDir(c.Dir); err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Ended != 0 {
		t.Fatalf("closed before its transcript: %s", s)
	}
	h.advance(h.cfg.Chat.CCAI.TranscriptWait)
	if s := h.pass(); s.Ended != 1 {
		t.Fatalf("not closed after transcript_wait: %s\n%s", s, h.logs)
	}
	card := h.card(c.Session.ID)
	if card.Text(h.cfg.ESM.Attributes.ChatLog) != "" || !card.Has(h.cfg.ESM.Attributes.EndTime) {
		t.Errorf("closed card: log %q, end time set %v", card.Text(h.cfg.ESM.Attributes.ChatLog), card.Has(h.cfg.ESM.Attributes.EndTime))
	}
	if err := h.sb.CCAI().Publish(); err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Written != 0 {
		t.Errorf("a late transcript was written: %s", s)
	}
	path := filepath.Join(h.cfg.Chat.CCAI.TranscriptsDir, h.sb.CCAI().ChatID(c.Session.ID)+".json")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("late transcript not dropped: %v", err)
	}
}

// TestBackfill_CCAIFromTranscripts: CCAI Platform lists no chats by time;
// backfill finds them by the transcripts in the export storage, creates
// each chat's card once and writes it whole, closed.
func TestBackfill_CCAIFromTranscripts(t *testing.T) {
	t.Parallel()
	h := newCCAIHarness(t, "")
	if _, err := h.sb.Generate(sandbox.GenOptions{Sessions: 8, MessagesPerSession: 4, Agents: 2, Seed: 5,
		Start: epoch.Add(-48 * time.Hour), Span: 24 * time.Hour, NoCards: true, EndedShare: 1}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(h.cfg.Chat.CCAI.TranscriptsDir, "*.json"))
	if err != nil || len(files) != 8 {
		t.Fatalf("%d transcripts in the export storage (%v), want 8", len(files), err)
	}
	for range 2 {
		s, err := h.eng.Backfill(context.Background(), nil, epoch.Add(-72*time.Hour), time.Time{})
		if err != nil || s.Failed != 0 {
			t.Fatalf("backfill: %s, %v\n%s", s, err, h.logs)
		}
	}
	if got := h.count(sandbox.RouteCreateCard); got != 8 {
		t.Errorf("%d cards created over two backfills, want 8", got)
	}
	a := h.cfg.ESM.Attributes
	for _, id := range h.sb.SessionIDs() {
		c := h.card(id) // fails on a duplicate
		if c.Text(a.Active) != "No" || !c.Has(a.ChatLog) || c.Text(a.MessageCount) == "" {
			t.Errorf("%s: active %q, chat log set %v, message_count %q; want a closed card with its log",
				id, c.Text(a.Active), c.Has(a.ChatLog), c.Text(a.MessageCount))
		}
	}
}
