package sandbox

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// churnFixture is a sandbox with n generated sessions, all active.
func churnFixture(t *testing.T, n int) *fixture {
	t.Helper()
	f := newFixture(t, Options{})
	if _, err := f.Generate(GenOptions{Sessions: n, MessagesPerSession: 6, Agents: 3, Seed: 1, EndedShare: -1}); err != nil {
		t.Fatal(err)
	}
	return f
}

// transcripts are the message counts of every session, by id.
func transcripts(s *Server) map[string]int {
	out := map[string]int{}
	for _, id := range s.SessionIDs() {
		_, msgs, _ := s.Session(id)
		out[id] = len(msgs)
	}
	return out
}

func TestChurner_Step(t *testing.T) {
	t.Parallel()
	f := churnFixture(t, 10)
	before := transcripts(f.Server)
	f.clock.Advance(time.Hour)
	since := f.clock.Now()
	f.clock.Advance(time.Second)
	now := f.clock.Now()
	c := f.NewChurner(ChurnOptions{Seed: 7, Agents: 3})

	step, err := c.Step()
	if err != nil {
		t.Fatal(err)
	}
	if want := (ChurnStep{Messages: 6, Talked: 3, Ended: 1, Opened: 1, Cards: 1}); step != want {
		t.Fatalf("step = %v, want %v", step, want)
	}
	var talked, ended, opened []string
	for id, n := range transcripts(f.Server) {
		sess, msgs, _ := f.Session(id)
		switch old, ok := before[id]; {
		case !ok:
			opened = append(opened, id)
			if sess.Ended() || len(msgs) != 4 || !sess.UpdatedAt.Equal(now) {
				t.Errorf("opened %s: status %s, %d messages, updated %v", id, sess.Status, len(msgs), sess.UpdatedAt)
			}
			if _, ok := f.CardBySession(id); !ok {
				t.Errorf("opened %s has no card", id)
			}
		case n == old+2:
			talked = append(talked, id)
			checkTalk(t, sess, msgs, now)
		case sess.Ended():
			ended = append(ended, id)
			if n != old || !sess.EndedAt.Equal(now) {
				t.Errorf("ended %s: %d messages (had %d), ended at %v", id, n, old, sess.EndedAt)
			}
		case n != old:
			t.Errorf("%s went from %d to %d messages", id, old, n)
		}
	}
	if len(talked) != 3 || len(ended) != 1 || len(opened) != 1 || slices.Contains(talked, ended[0]) {
		t.Fatalf("talked %v, ended %v, opened %v", talked, ended, opened)
	}
	if opened[0] != "churn-000001" {
		t.Errorf("opened id %s", opened[0])
	}
	// The platform lists exactly what changed, so an incremental pass
	// fetches only those sessions.
	ids, _ := listAll(t, f, url.Values{"updated_since": {since.Format(time.RFC3339)}})
	want := slices.Concat(talked, ended, opened)
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("changed listing %v, want %v", ids, want)
	}

	f.clock.Advance(time.Minute)
	if _, err := c.Step(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.Session("churn-000002"); !ok {
		t.Error("the second step opened no churn-000002")
	}
}

// checkTalk checks two appended messages: after the old transcript in seq,
// at now, the answer from the agent of the open live chat or else the bot.
func checkTalk(t *testing.T, sess aggregate.Session, msgs []aggregate.Message, now time.Time) {
	t.Helper()
	v, a := msgs[len(msgs)-2], msgs[len(msgs)-1]
	if v.Seq != msgs[len(msgs)-3].Seq+1 || a.Seq != v.Seq+1 || !a.SentAt.Equal(now) {
		t.Errorf("%s: appended seqs %d, %d at %v", sess.ID, v.Seq, a.Seq, a.SentAt)
	}
	if v.Sender.Type != aggregate.SenderVisitor || v.Sender.ID != sess.Customer.ID {
		t.Errorf("%s: first appended message from %+v", sess.ID, v.Sender)
	}
	lc, agent, live := openStint(sess)
	switch {
	case live && (a.Sender.Type != aggregate.SenderAgent || a.Sender.ID != agent.ID || a.LiveChatID != lc):
		t.Errorf("%s: answer in open live chat %s from %+v (chat %q)", sess.ID, lc, a.Sender, a.LiveChatID)
	case !live && (a.Sender.Type != aggregate.SenderBot || a.LiveChatID != ""):
		t.Errorf("%s: answer without a live chat from %+v", sess.ID, a.Sender)
	}
}

func TestChurner_NoCardsAndNothingActive(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.NewChurner(ChurnOptions{NoCards: true, Opens: 2, IDPrefix: "bf-"})
	step, err := c.Step()
	if err != nil {
		t.Fatal(err)
	}
	if want := (ChurnStep{Opened: 2}); step != want {
		t.Fatalf("step = %v, want %v", step, want)
	}
	if ids := f.SessionIDs(); len(ids) != 2 || len(f.SessionCards()) != 0 {
		t.Errorf("sessions %v, session cards %d", ids, len(f.SessionCards()))
	}
	for _, id := range f.SessionIDs() {
		sess, _, _ := f.Session(id)
		if _, ok := f.PersonByEmail(sess.Customer.Email); sess.Customer.Email != "" && !ok {
			t.Errorf("%s: no person card for its customer", id)
		}
	}
	// Ids the data already uses are skipped.
	if err := f.AddSession(aggregate.Session{ID: "bf-000003"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Step(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.Session("bf-000004"); !ok {
		t.Errorf("sessions after a taken id: %v", f.SessionIDs())
	}
}

// TestChurner_Run: Run steps on its ticker, reports each step, and stops
// with its context.
func TestChurner_Run(t *testing.T) {
	t.Parallel()
	f := churnFixture(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	steps := make(chan ChurnStep)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.NewChurner(ChurnOptions{}).Run(ctx, time.Millisecond, func(s ChurnStep, err error) {
			if err != nil {
				t.Error(err)
			}
			select {
			case steps <- s:
			case <-ctx.Done():
			}
		})
	}()
	opened := 0
	for range 3 {
		select {
		case s := <-steps:
			opened += s.Opened
		case <-time.After(10 * time.Second):
			t.Fatal("no churn step")
		}
	}
	cancel()
	<-done
	if opened != 3 || len(f.SessionIDs()) < 8 {
		t.Errorf("opened %d; sessions %d", opened, len(f.SessionIDs()))
	}
}
