package engine_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// want is the card the aggregation of session id gives, as the sandbox
// holds it now.
func (h *harness) want(id string) aggregate.Card {
	h.t.Helper()
	s, msgs, ok := h.sb.Session(id)
	if !ok {
		h.t.Fatalf("no session %s", id)
	}
	return aggregate.Aggregate(s, msgs, aggregate.Options{Now: h.clock(), Location: h.cfg.Location,
		MaxActiveAge: h.cfg.Sync.MaxActiveAge, ChatLogMaxChars: h.cfg.Sync.ChatLogMaxChars})
}

// recreateCards re-creates the cards of ids the way an admin would: a new
// active card with the same session id, then the old one made inactive.
// It returns the new card ids by session.
func (h *harness) recreateCards(ids ...string) map[string]string {
	h.t.Helper()
	a := h.cfg.ESM.Attributes
	out := map[string]string{}
	for _, id := range ids {
		old := h.card(id).ID
		card, err := h.sb.CreateChatSessionCard(id)
		if err != nil {
			h.t.Fatal(err)
		}
		no := sandbox.StaticValue{Value: "No", Code: "no"}
		if err := h.sb.SetCard(old, map[string][]sandbox.Value{a.Active: {sandbox.Static(no)}}); err != nil {
			h.t.Fatal(err)
		}
		out[id] = card
	}
	return out
}

func (h *harness) checkMovedCards(moved map[string]string) {
	h.t.Helper()
	for id, card := range moved {
		c, ok := h.sb.Card(card)
		if !ok {
			h.t.Fatalf("card %s of %s is gone", card, id)
		}
		checkCardValues(h.t, h, c, h.want(id))
	}
}

// Item 1: a session moved to a new card keeps nothing of the old card's
// written values, so a first write to the new card that is cut short (a
// crash, an API failure, a refused write) is done again in full.
func TestPass_MovedCardWrittenWholeAfterInterruptedFirstWrite(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"crash", "deferred", "backoff"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "sync:\n  concurrency: 1\n")
			h.generate(12)
			h.pass()
			h.advance(time.Minute)
			var open []string
			for _, c := range h.sb.SessionCards() {
				if c.Text(h.cfg.ESM.Attributes.Active) == "Yes" {
					open = append(open, c.Text(h.cfg.ESM.Attributes.SessionID))
				}
			}
			if len(open) < 3 {
				t.Fatalf("%d sessions still open, want 3 or more", len(open))
			}
			moved := h.recreateCards(open[0], open[1], open[2])
			switch how {
			case "crash":
				// The PATCHes of the pass hang until the process dies.
				h.sb.SetFaults(sandbox.Faults{ESM: sandbox.Fault{Latency: time.Minute, Routes: []string{sandbox.RoutePatchCard}}})
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				_, err := h.eng.Pass(ctx, nil)
				cancel()
				if err == nil {
					t.Fatal("the killed pass ended well")
				}
				h.sb.SetFaults(sandbox.Faults{})
				h.reopen()
			case "deferred":
				h.sb.SetFaults(sandbox.Faults{ESM: sandbox.Fault{ServerErrorShare: 1, Routes: []string{sandbox.RoutePatchCard}}})
				if s := h.pass(); s.Failed != 3 {
					t.Fatalf("pass with failing PATCHes: %s, want 3 failed", s)
				}
				h.sb.SetFaults(sandbox.Faults{})
			case "backoff":
				// ESM refuses the chat logs: a failure of the sessions' own.
				h.sb.SetMaxTextLength(10)
				if s := h.pass(); s.Failed != 3 {
					t.Fatalf("pass with refused writes: %s, want 3 failed", s)
				}
				h.sb.SetMaxTextLength(0)
				h.advance(engine.BackoffBase)
			}
			for range 2 {
				h.advance(time.Minute)
				h.pass()
			}
			h.checkMovedCards(moved)
		})
	}
}

// Item 8: the platform stamps updated_at in whole seconds. A message that
// comes in within the second of the worker's fetch leaves updated_at as it
// was; the session must be fetched again all the same, then skipped once
// its stamp is safely older than the fetch.
func TestPass_SameSecondMessageNotSkipped(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, "sync:\n  refresh_after: 24h\n", func(o *sandbox.Options) { o.UpdatedAtPrecision = time.Second })
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.sb.AddCase(liveSession("ws-b"), liveMessages("ws-b"))
	h.pass()
	h.advance(10*time.Minute + 200*time.Millisecond)
	h.addVisitorMessage("ws-a") // updated_at: the whole second
	h.advance(100 * time.Millisecond)
	h.pass() // fetches ws-a at .300
	h.advance(400 * time.Millisecond)
	h.addVisitorMessage("ws-a") // .700: same second, same updated_at
	h.advance(5 * time.Minute)
	h.sb.ResetStats()
	h.pass()
	checkCard(t, h, h.want("ws-a"))
	if n := h.requestsFor("ws-b"); n != 0 {
		t.Errorf("ws-b, unchanged for an hour, was fetched with %d requests", n)
	}
	// Now the stored stamp is older than the fetch by more than the
	// margin: the next idle pass skips it.
	h.advance(5 * time.Minute)
	h.sb.ResetStats()
	h.pass()
	if n := h.requestsFor("ws-a"); n != 0 {
		t.Errorf("quiet ws-a fetched again with %d requests", n)
	}
}

// Item 13: a change that does not move updated_at (here: a platform that
// stamps by the day) shows up within sync.refresh_after, and the refresh
// fetches are spread over passes rather than all in one.
func TestPass_RefreshAfterCatchesSilentChanges(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, "", func(o *sandbox.Options) { o.UpdatedAtPrecision = 24 * time.Hour })
	ids := h.generate(40)
	h.pass()
	var open []string
	for _, c := range h.sb.SessionCards() {
		if c.Text(h.cfg.ESM.Attributes.Active) == "Yes" {
			open = append(open, c.Text(h.cfg.ESM.Attributes.SessionID))
		}
	}
	// A hand-over with no message: Bob joins the live chat.
	target := open[0]
	err := h.sb.UpdateSession(target, func(s *aggregate.Session) {
		lc := &s.LiveChats[len(s.LiveChats)-1]
		lc.Agents = append(lc.Agents, aggregate.Agent{ID: "a-bob", Name: "Bob", Email: "bob@example.com", JoinedAt: h.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sb.AddPerson("Bob", "bob@example.com")
	fetched := map[string]int{}
	most := 0
	for range 16 { // one pass a minute for 16 minutes
		h.advance(time.Minute)
		h.sb.ResetStats()
		h.pass()
		n := 0
		for _, r := range h.sb.Requests() {
			if r.Route == sandbox.RouteGetSession {
				fetched[r.Path]++
				n++
			}
		}
		most = max(most, n)
	}
	if len(fetched) != len(open) {
		t.Errorf("%d of %d open sessions fetched within refresh_after", len(fetched), len(open))
	}
	if most >= len(open)/2 {
		t.Errorf("one pass fetched %d of %d sessions: the refreshes are not spread", most, len(open))
	}
	checkCard(t, h, h.want(target))
	if h.email(h.card(target).Ref(h.cfg.ESM.Attributes.SupportPerson)) != "bob@example.com" {
		t.Errorf("the silent hand-over to Bob is not on the card")
	}
	_ = ids
}

// Item 9: a cached Person card deleted in ESM makes the write fail once;
// the worker looks the person up again and writes in the same pass,
// charging the session nothing.
func TestPass_StaleCachedPersonRetriedInSamePass(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.pass() // caches Maija's Person card
	old, _ := h.sb.PersonByEmail("maija@example.com")
	h.sb.DeleteCard(old.ID)
	fresh, err := h.sb.AddPerson("Maija", "maija@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	h.sb.AddCase(liveSession("ws-b"), liveMessages("ws-b")) // Maija again
	s := h.pass()
	if s.Failed != 0 || s.Written != 1 {
		t.Fatalf("pass after the person card was replaced: %s\n%s", s, h.logs)
	}
	if got := h.card("ws-b").Ref(h.cfg.ESM.Attributes.Customer); got != fresh {
		t.Errorf("customer = card %s, want the new card %s", got, fresh)
	}
	checkCard(t, h, h.want("ws-b"))
}

// Item 10: a Person card created after the worker cached "no card" but
// before the session closes is on the closing write.
func TestPass_ClosingWriteLooksUpUnresolvedPeopleAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	s := liveSession("ws-a")
	h.sb.AddSession(s, liveMessages("ws-a"))
	h.sb.AddPerson("Maija", "maija@example.com")
	h.sb.CreateChatSessionCard("ws-a")
	h.pass()
	if h.card("ws-a").Has(h.cfg.ESM.Attributes.SupportPerson) {
		t.Fatal("support person set before Ann has a Person card")
	}
	h.advance(time.Minute) // well inside esm.person.unresolved_ttl
	ann, _ := h.sb.AddPerson("Ann Agent", "ann@example.com")
	if err := h.sb.EndSession("ws-a", time.Time{}); err != nil {
		t.Fatal(err)
	}
	h.pass()
	c := h.card("ws-a")
	if c.Text(h.cfg.ESM.Attributes.Active) != "No" || c.Ref(h.cfg.ESM.Attributes.SupportPerson) != ann {
		t.Errorf("closing write: active %q, support person %q; want No and Ann's card %s",
			c.Text(h.cfg.ESM.Attributes.Active), c.Ref(h.cfg.ESM.Attributes.SupportPerson), ann)
	}
}

// Item 11: ESM refuses part of a closing write. Whether it applies the
// accepted attributes or nothing, the card must stay active and the
// session tracked and failing, so that a later pass finishes it.
func TestPass_PartlyRefusedClosingWriteKeepsCardOpen(t *testing.T) {
	t.Parallel()
	for _, partial := range []bool{false, true} {
		name := map[bool]string{false: "whole", true: "partial"}[partial]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, "", func(o *sandbox.Options) { o.PartialWrites = partial })
			h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
			h.pass()
			h.advance(time.Minute)
			h.sb.SetMaxTextLength(40) // the chat log no longer fits
			h.addVisitorMessage("ws-a")
			if err := h.sb.EndSession("ws-a", time.Time{}); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if s := h.pass(); s.Failed != 1 {
					t.Errorf("pass with a refused closing write: %s, want 1 failed", s)
				}
				h.advance(time.Hour)
			}
			a := h.cfg.ESM.Attributes
			if got := h.card("ws-a").Text(a.Active); got != "Yes" {
				t.Fatalf("is_chat_active = %q after a refused closing write, want Yes", got)
			}
			st, ok, _ := h.store.Session(context.Background(), "ws-a")
			if !ok || !st.Failing() || !strings.Contains(st.LastError, a.ChatLog) {
				t.Errorf("session after the refused write: tracked %v, %+v", ok, st)
			}
			h.sb.SetMaxTextLength(0)
			h.pass()
			checkCard(t, h, h.want("ws-a"))
		})
	}
}

// Item 12: a session updated while backfill pages through the listing
// shows up twice; with slow card creation both visits would find no card
// and both create one.
func TestBackfill_SessionListedTwiceGetsOneCard(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  concurrency: 16\n")
	h.cfg.Chat.PageSize = 2
	h.reopen()
	if _, err := h.sb.Generate(sandbox.GenOptions{Sessions: 8, MessagesPerSession: 4, Agents: 2, Seed: 5,
		Start: epoch.Add(-48 * time.Hour), Span: 24 * time.Hour, NoCards: true}); err != nil {
		t.Fatal(err)
	}
	ids := h.sb.SessionIDs()
	// Every listing page moves the first session to the end of the order.
	var pages atomic.Int32
	sb := h.sb
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/chat/api/v1/sessions") && pages.Add(1) > 1 {
			sb.AppendMessages(ids[0], aggregate.Message{SentAt: h.clock(), Text: "again",
				Sender: aggregate.Sender{Type: aggregate.SenderVisitor}})
		}
		sb.ServeHTTP(w, r)
	})
	h.sb.SetFaults(sandbox.Faults{ESM: sandbox.Fault{Latency: 300 * time.Millisecond, Routes: []string{sandbox.RouteCreateCard}}})
	s, err := h.eng.Backfill(context.Background(), nil, epoch.Add(-72*time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if pages.Load() < 3 {
		t.Fatalf("listing took %d pages; the test needs the listing to move under the pager", pages.Load())
	}
	for _, id := range ids {
		if n := len(h.sb.CardsBySession(id)); n != 1 {
			t.Errorf("session %s has %d cards after backfill (%s)", id, n, s)
		}
	}
}

// Item 7: a refused ESM login backs the tenant off, doubling, instead of
// trying the wrong password every tick; changed credentials are tried at
// once.
func TestPass_RefusedLoginBacksOffTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.cfg.ESM.Password = "wrong"
	h.reopen()
	logins := func() int { return h.count(sandbox.RouteLogin) }
	_, err := h.eng.Pass(context.Background(), nil)
	if err == nil || logins() != 1 {
		t.Fatalf("first pass: %v, %d logins", err, logins())
	}
	for _, step := range []struct {
		after  time.Duration
		logins int
	}{
		{time.Minute, 1},                           // backing off 5m
		{engine.LoginBackoffBase, 2},               // tried again, refused: 10m
		{engine.LoginBackoffBase, 2},               // still waiting
		{engine.LoginBackoffBase + time.Second, 3}, // tried again
	} {
		h.advance(step.after)
		_, err := h.eng.Pass(context.Background(), nil)
		var fe *engine.FatalError
		if !errors.As(err, &fe) {
			t.Fatalf("pass while the password is wrong: %v, want a fatal error", err)
		}
		if got := logins(); got != step.logins {
			t.Errorf("after %s more: %d logins, want %d (%v)", step.after, got, step.logins, err)
		}
	}
	b, _ := engine.ReadLoginBackoff(context.Background(), h.store)
	if b == nil || b.Refusals != 3 {
		t.Fatalf("back-off recorded: %+v", b)
	}
	// The password is fixed and the tenant file changed: try at once.
	h.cfg.ESM.Password = "pw"
	h.stamp = "changed"
	h.reopen()
	if s := h.pass(); s.Written != 1 {
		t.Errorf("pass with the fixed password: %s", s)
	}
	if b, _ := engine.ReadLoginBackoff(context.Background(), h.store); b != nil {
		t.Errorf("back-off kept after a good login: %+v", b)
	}
}

// An ended session the customer may still reopen (SuperOffice's Finished)
// is written with the active value kept and no end time, fetched every
// pass while the grace runs, and closed once it is over even though
// nothing changed on the platform.
func TestPass_ReopenableSessionClosedAfterGrace(t *testing.T) {
	t.Parallel()
	h := newMemoryHarness(t, "")
	s := liveSession("ws-r")
	s.Status, s.EndedAt, s.UpdatedAt = aggregate.StatusEnded, h.now, h.now
	s.ReopenableUntil = h.now.Add(30 * time.Minute)
	h.addMemoryCase(s, liveMessages("ws-r"))
	a := h.cfg.ESM.Attributes
	if sum := h.pass(); sum.Written != 1 || sum.Ended != 0 {
		t.Fatalf("pass inside the grace: %s", sum)
	}
	c := h.card("ws-r")
	if c.Text(a.Active) != "Yes" || c.Has(a.EndTime) || c.Text(a.MessageCount) != "4" {
		t.Errorf("card inside the grace: active %q, end time set %v, count %q", c.Text(a.Active), c.Has(a.EndTime), c.Text(a.MessageCount))
	}
	// The customer writes again within the grace: the session is reopened.
	h.advance(10 * time.Minute)
	if err := h.mem.Update("ws-r", func(s *aggregate.Session) {
		s.Status, s.EndedAt, s.ReopenableUntil = aggregate.StatusActive, time.Time{}, time.Time{}
	}, aggregate.Message{SentAt: h.now, Text: "one more thing", Sender: aggregate.Sender{Type: aggregate.SenderVisitor, Name: "Maija"}}); err != nil {
		t.Fatal(err)
	}
	h.pass()
	if got := h.card("ws-r").Text(a.MessageCount); got != "5" {
		t.Errorf("reopened session: message_count %q, want 5", got)
	}
	// Finished again; then nothing changes until the grace is over.
	h.advance(time.Minute)
	end := h.now
	h.mem.Update("ws-r", func(s *aggregate.Session) {
		s.Status, s.EndedAt, s.ReopenableUntil = aggregate.StatusEnded, end, end.Add(30*time.Minute)
	})
	h.pass()
	h.advance(31 * time.Minute)
	if sum := h.pass(); sum.Ended != 1 {
		t.Errorf("pass after the grace: %s, want the session closed", sum)
	}
	c = h.card("ws-r")
	if got, _ := c.Time(a.EndTime); c.Text(a.Active) != "No" || !got.Equal(end) {
		t.Errorf("card after the grace: active %q, end %v; want No and %v", c.Text(a.Active), got, end)
	}
}
