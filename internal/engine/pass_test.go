package engine_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// generate fills the sandbox with n sessions of 6 messages around the
// harness clock, each with its card, and returns their ids.
func (h *harness) generate(n int) []string {
	h.t.Helper()
	_, err := h.sb.Generate(sandbox.GenOptions{Sessions: n, MessagesPerSession: 6, Agents: 4, Seed: 7,
		Start: h.now.Add(-6 * time.Hour), Span: 5 * time.Hour})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.sb.SessionIDs()
}

func (h *harness) activeCards() int {
	n := 0
	for _, c := range h.sb.SessionCards() {
		if c.Text(h.cfg.ESM.Attributes.Active) == "Yes" {
			n++
		}
	}
	return n
}

func TestPass_SecondPassWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.generate(30)
	active := h.activeCards()
	first := h.pass()
	if first.Written != active || first.Failed != 0 {
		t.Fatalf("first pass %s, want %d written", first, active)
	}
	patches := h.count(sandbox.RoutePatchCard)
	second := h.pass()
	if got := h.count(sandbox.RoutePatchCard) - patches; got != 0 {
		t.Errorf("second pass sent %d PATCH requests, want 0 (%s)", got, second)
	}
	if second.Written != 0 || second.Unchanged == 0 {
		t.Errorf("second pass %s", second)
	}
}

func TestPass_NewMessagesRewriteOneCard(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.sb.AddCase(liveSession("ws-b"), liveMessages("ws-b"))
	h.pass()
	h.sb.ResetStats()
	h.advance(time.Minute)
	extra := aggregate.Message{Seq: 5, SentAt: h.now, Sender: aggregate.Sender{Type: aggregate.SenderVisitor, Name: "Maija"},
		LiveChatID: "lc-1", Text: "one more thing"}
	if err := h.sb.AppendMessages("ws-a", extra); err != nil {
		t.Fatal(err)
	}
	s := h.pass()
	if s.Written != 1 || s.Unchanged != 1 {
		t.Errorf("summary %s, want 1 written and 1 unchanged", s)
	}
	if got := h.count(sandbox.RoutePatchCard); got != 1 {
		t.Errorf("%d PATCH requests, want 1", got)
	}
	if got := h.card("ws-a").Text(h.cfg.ESM.Attributes.MessageCount); got != "5" {
		t.Errorf("ws-a message_count = %s, want 5", got)
	}
	if log := h.card("ws-a").Text(h.cfg.ESM.Attributes.ChatLog); !strings.HasSuffix(log, "Maija (customer): one more thing") {
		t.Errorf("ws-a chat log does not end with the new message:\n%s", log)
	}
	// Only messages after the stored seq were asked for: the stored ones
	// came from state, as the full transcript on the card shows.
	st, _, _ := h.store.Session(context.Background(), "ws-a")
	if st.Cursor != "5" || st.Stored != 5 {
		t.Errorf("ws-a cursor = %q with %d stored, want 5 and 5", st.Cursor, st.Stored)
	}
}

func TestPass_EndedSessionClosedAndNeverPolled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.pass()
	h.advance(time.Minute)
	h.sb.EndSession("ws-a", h.now)
	s := h.pass()
	if s.Ended != 1 {
		t.Fatalf("summary %s, want ended=1", s)
	}
	c := h.card("ws-a")
	if c.Text(h.cfg.ESM.Attributes.Active) != "No" || !c.Has(h.cfg.ESM.Attributes.EndTime) {
		t.Errorf("closed card: active=%q end_time set=%v", c.Text(h.cfg.ESM.Attributes.Active), c.Has(h.cfg.ESM.Attributes.EndTime))
	}
	h.sb.ResetStats()
	h.pass()
	h.pass()
	for _, r := range []string{sandbox.RouteGetSession, sandbox.RouteListMessages, sandbox.RoutePatchCard} {
		if n := h.count(r); n != 0 {
			t.Errorf("%d %s requests for a closed session, want 0", n, r)
		}
	}
}

func TestPass_ExpiredSessionClosed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  max_active_age: 2h\n")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.pass()
	h.advance(3 * time.Hour)
	s := h.pass()
	if s.Ended != 1 || h.card("ws-a").Text(h.cfg.ESM.Attributes.Active) != "No" {
		t.Errorf("summary %s; expired session not closed", s)
	}
	if !strings.Contains(h.logs.String(), "session expired") {
		t.Error("expiry was not logged")
	}
}

func TestPass_FailingSessionBacksOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	ids := h.generate(10)
	gone := ids[0]
	h.sb.UpdateSession(gone, func(s *aggregate.Session) { s.Status = aggregate.StatusActive })
	h.sb.DeleteSession(gone)
	s := h.pass()
	if s.Failed != 1 || s.Written == 0 {
		t.Fatalf("summary %s, want 1 failed and the others written", s)
	}
	st, _, _ := h.store.Session(context.Background(), gone)
	if st.Failures != 1 || !strings.Contains(st.LastError, "not found") {
		t.Errorf("state of %s = failures %d, error %q", gone, st.Failures, st.LastError)
	}
	// Within the back-off the session is skipped without a request.
	h.sb.ResetStats()
	s = h.pass()
	if n := h.requestsFor(gone); s.Skipped != 1 || s.Failed != 0 || n != 0 {
		t.Errorf("pass within back-off: %s, %d requests for %s", s, n, gone)
	}
	// After it, the session is tried again, fails again, and waits twice as long.
	h.advance(engine.BackoffBase + time.Second)
	s = h.pass()
	if s.Failed != 1 {
		t.Errorf("pass after back-off: %s, want it tried and failed", s)
	}
	st, _, _ = h.store.Session(context.Background(), gone)
	if want := h.now.Add(2 * engine.BackoffBase); st.Failures != 2 || !st.NextAttempt.Equal(want) {
		t.Errorf("after 2 failures: %d, next %v, want next %v", st.Failures, st.NextAttempt, want)
	}
}

func TestPass_DeletedCardDropped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.sb.AddCase(liveSession("ws-b"), liveMessages("ws-b"))
	h.pass()
	h.sb.DeleteCard(h.card("ws-a").ID)
	s := h.pass()
	if s.Dropped != 1 {
		t.Errorf("summary %s, want dropped=1", s)
	}
	if _, ok, _ := h.store.Session(context.Background(), "ws-a"); ok {
		t.Error("ws-a still tracked after its card was deleted")
	}
	if !strings.Contains(h.logs.String(), "no longer active") {
		t.Error("no warning about the dropped session")
	}
}

func TestPass_CrashBetweenPatchAndCommit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.sb.AddCase(liveSession("ws-b"), liveMessages("ws-b"))
	crash := errors.New("simulated crash")
	h.hooks.AfterPatch = func(id string) error {
		if id == "ws-a" {
			return crash
		}
		return nil
	}
	h.reopen()
	if _, err := h.eng.Pass(context.Background(), nil); !errors.Is(err, crash) {
		t.Fatalf("pass error = %v, want the crash", err)
	}
	st, _, _ := h.store.Session(context.Background(), "ws-a")
	if st.Cursor != "" || st.Stored != 0 {
		t.Fatalf("cursor committed despite the crash: %+v", st)
	}
	// A new process converges: the card is rewritten (idempotently) and
	// the cursor committed; no second card appears.
	h.hooks.AfterPatch = nil
	h.reopen()
	h.pass()
	if st, _, _ := h.store.Session(context.Background(), "ws-a"); st.Cursor != "4" {
		t.Errorf("cursor after recovery = %q, want 4", st.Cursor)
	}
	if h.card("ws-a").Text(h.cfg.ESM.Attributes.MessageCount) != "4" || len(h.sb.SessionCards()) != 2 {
		t.Errorf("after recovery: %d cards", len(h.sb.SessionCards()))
	}
	patches := h.count(sandbox.RoutePatchCard)
	h.pass()
	if n := h.count(sandbox.RoutePatchCard) - patches; n != 0 {
		t.Errorf("converged state still writes: %d PATCH", n)
	}
}

func TestPass_AgentWithoutPersonCard(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	s := liveSession("ws-a")
	s.LiveChats[0].Agents = append(s.LiveChats[0].Agents,
		aggregate.Agent{Name: "Ghost Agent", Email: "ghost@example.com", JoinedAt: epoch.Add(-time.Hour + 3*time.Minute)})
	// AddSession, not AddCase: only the customer and Ann get Person cards.
	h.sb.AddSession(s, liveMessages("ws-a"))
	h.sb.AddPerson("Maija", "maija@example.com")
	h.sb.AddPerson("Ann Agent", "ann@example.com")
	h.sb.CreateChatSessionCard("ws-a")
	h.sb.AddCase(liveSession("ws-b"), liveMessages("ws-b"))
	sum := h.pass()
	if sum.Written != 2 || sum.Failed != 0 {
		t.Fatalf("summary %s", sum)
	}
	a := h.cfg.ESM.Attributes
	c := h.card("ws-a")
	if got := len(c.Refs(a.Members)); got != 2 {
		t.Errorf("members: %d, want the customer and Ann only", got)
	}
	if c.Has(a.SupportPerson) {
		t.Errorf("support_person set to %s; the latest agent has no Person card", c.Ref(a.SupportPerson))
	}
	if n := strings.Count(h.logs.String(), "ghost@example.com"); n != 1 {
		t.Errorf("ghost warned %d times in one pass, want once", n)
	}
	// One lookup per distinct person, cached across passes.
	lookups, streams := h.count(sandbox.RouteListCards), h.count(sandbox.RouteStreamCards)
	h.advance(time.Minute)
	h.addVisitorMessage("ws-b")
	h.pass()
	if n, d := h.count(sandbox.RouteListCards)-lookups, h.count(sandbox.RouteStreamCards)-streams; n != 0 || d != 1 {
		t.Errorf("second pass made %d card listings and %d streams, want 0 and 1 (discovery only; people cached)", n, d)
	}
}

func TestBackfill_CreatesCardsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	if _, err := h.sb.Generate(sandbox.GenOptions{Sessions: 12, MessagesPerSession: 5, Agents: 3, Seed: 3,
		Start: epoch.Add(-48 * time.Hour), Span: 24 * time.Hour, NoCards: true, EndedShare: 0.7}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := h.eng.Backfill(context.Background(), nil, epoch.Add(-72*time.Hour), time.Time{})
		if err != nil || s.Failed != 0 {
			t.Fatalf("backfill: %s, %v\n%s", s, err, h.logs)
		}
	}
	if got := h.count(sandbox.RouteCreateCard); got != 12 {
		t.Errorf("%d cards created over two backfills, want 12", got)
	}
	for _, id := range h.sb.SessionIDs() {
		c := h.card(id) // fails on a duplicate
		sess, _, _ := h.sb.Session(id)
		want := map[bool]string{true: "No", false: "Yes"}[sess.Ended()]
		if got := c.Text(h.cfg.ESM.Attributes.Active); got != want || !c.Has(h.cfg.ESM.Attributes.ChatLog) {
			t.Errorf("%s: active %q (want %q), chat log set %v", id, got, want, c.Has(h.cfg.ESM.Attributes.ChatLog))
		}
	}
}

func TestBackfill_Until(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddSession(liveSession("ws-old"), liveMessages("ws-old"))
	late := liveSession("ws-new")
	late.StartedAt = epoch.Add(-10 * time.Minute)
	h.sb.AddSession(late, nil)
	if _, err := h.eng.Backfill(context.Background(), nil, epoch.Add(-24*time.Hour), epoch.Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(h.sb.CardsBySession("ws-old")) != 1 || len(h.sb.CardsBySession("ws-new")) != 0 {
		t.Errorf("cards: old %d, new %d; want 1 and 0", len(h.sb.CardsBySession("ws-old")), len(h.sb.CardsBySession("ws-new")))
	}
}

// liveSession is an active session with one live chat with Ann, started an
// hour before the epoch.
func liveSession(id string) aggregate.Session {
	start := epoch.Add(-time.Hour)
	return aggregate.Session{
		ID: id, Status: aggregate.StatusActive, StartedAt: start,
		Customer: aggregate.Customer{ID: "u-1", Name: "Maija", Email: "maija@example.com"},
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: start.Add(time.Minute), ConnectedAt: start.Add(2 * time.Minute),
			Agents: []aggregate.Agent{{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: start.Add(2 * time.Minute)}}}},
	}
}

func liveMessages(id string) []aggregate.Message {
	start := epoch.Add(-time.Hour)
	m := func(seq int64, sec int, typ aggregate.SenderType, name, lc, text string) aggregate.Message {
		return aggregate.Message{Seq: seq, SentAt: start.Add(time.Duration(sec) * time.Second),
			Sender: aggregate.Sender{Type: typ, Name: name}, LiveChatID: lc, Text: text}
	}
	return []aggregate.Message{
		m(1, 1, aggregate.SenderBot, "Botti", "", "Hi"),
		m(2, 30, aggregate.SenderVisitor, "Maija", "", "human please"),
		m(3, 130, aggregate.SenderVisitor, "Maija", "lc-1", "my VPN is down"),
		m(4, 160, aggregate.SenderAgent, "Ann Agent", "lc-1", "Let me check"),
	}
}

func TestPass_ChatPlatformDownIsFatalAndChargesNoSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  concurrency: 2\n")
	h.generate(30)
	h.sb.SetFaults(sandbox.Faults{Chat: sandbox.Fault{ServerErrorShare: 1}})
	s, err := h.eng.Pass(context.Background(), nil)
	var fe *engine.FatalError
	// The platform answers, with 5xx: the error says so, and does not
	// claim it got no answer.
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "an API keeps failing: 10 sessions in a row were answered with an error") ||
		!regexp.MustCompile(`chat fetch session ws-\d+: 5\d\d `).MatchString(err.Error()) {
		t.Fatalf("pass over a failing chat platform: %s, %v; want a fatal 'keeps failing' error with the 5xx", s, err)
	}
	n, _ := h.store.Counts(context.Background())
	if n.BackingOff != 0 {
		t.Errorf("%d sessions backed off for the platform's outage", n.Failing)
	}
	// Once it is back, one pass writes everything.
	h.sb.SetFaults(sandbox.Faults{})
	active := h.activeCards()
	if s := h.pass(); s.Failed != 0 || s.Written != active {
		t.Errorf("after the outage: %s", s)
	}
}

func TestPass_IdlePassSendsNoSessionRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.generate(40)
	h.pass()
	h.advance(time.Minute)
	h.sb.ResetStats()
	s := h.pass()
	for _, r := range []string{sandbox.RouteGetSession, sandbox.RouteListMessages, sandbox.RoutePatchCard} {
		if n := h.count(r); n != 0 {
			t.Errorf("idle pass sent %d %s", n, r)
		}
	}
	if h.count(sandbox.RouteListSessions) != 1 || s.Unchanged != s.Sessions {
		t.Errorf("idle pass: %s, %d listings of changes", s, h.count(sandbox.RouteListSessions))
	}
}

func TestPass_OnlyChangedSessionsFetched(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  refresh_after: 24h\n")
	for _, id := range []string{"ws-a", "ws-b", "ws-c"} {
		h.sb.AddCase(liveSession(id), liveMessages(id))
	}
	h.pass()
	h.advance(time.Hour) // beyond the watermark's overlap
	h.addVisitorMessage("ws-b")
	h.sb.ResetStats()
	if s := h.pass(); s.Written != 1 || s.Unchanged != 2 {
		t.Errorf("summary %s", s)
	}
	if a, b, c := h.requestsFor("ws-a"), h.requestsFor("ws-b"), h.requestsFor("ws-c"); a != 0 || c != 0 || b != 2 {
		t.Errorf("requests: ws-a %d, ws-b %d, ws-c %d; want 0, 2 (session + new messages), 0", a, b, c)
	}
}

func TestPass_DeferredSessionRetriedWithoutChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	for _, id := range []string{"ws-a", "ws-b"} {
		h.sb.AddCase(liveSession(id), liveMessages(id))
	}
	h.pass()
	h.advance(time.Minute)
	h.addVisitorMessage("ws-a")
	h.sb.SetFaults(sandbox.Faults{Chat: sandbox.Fault{ServerErrorShare: 1, Routes: []string{sandbox.RouteGetSession}}})
	if s := h.pass(); s.Failed != 1 {
		t.Fatalf("pass with the session endpoint down: %s", s)
	}
	st, _, _ := h.store.Session(context.Background(), "ws-a")
	if !st.Pending || st.Failures != 0 {
		t.Errorf("ws-a after a 503: pending %v, failures %d; want pending and no back-off", st.Pending, st.Failures)
	}
	h.sb.SetFaults(sandbox.Faults{})
	h.advance(time.Hour) // the listing no longer mentions ws-a
	if s := h.pass(); s.Written != 1 {
		t.Errorf("pass after recovery: %s, want ws-a written", s)
	}
	if got := h.card("ws-a").Text(h.cfg.ESM.Attributes.MessageCount); got != "5" {
		t.Errorf("ws-a message_count = %s, want 5", got)
	}
}

// TestPass_OneLookupPerDistinctPerson: a cold pass asks ESM once per
// distinct email (customers and agents), however many sessions share it,
// and not at all for people without an email.
func TestPass_OneLookupPerDistinctPerson(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  concurrency: 8\n")
	ids := h.generate(120)
	emails := map[string]bool{}
	for _, id := range ids {
		s, _, _ := h.sb.Session(id)
		if e := aggregate.NormalizeEmail(s.Customer.Email); e != "" {
			emails[e] = true
		}
		for _, lc := range s.LiveChats {
			for _, a := range lc.Agents {
				if e := aggregate.NormalizeEmail(a.Email); e != "" {
					emails[e] = true
				}
			}
		}
	}
	h.pass()
	// One stream holds all 120 cards.
	if got, streams := h.count(sandbox.RouteListCards), h.count(sandbox.RouteStreamCards); got != len(emails) || streams != 1 {
		t.Errorf("%d card listings and %d streams, want %d distinct people and 1 discovery stream", got, streams, len(emails))
	}
}
