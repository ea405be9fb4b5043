package sandbox

import (
	"reflect"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

type snapshot struct {
	Sessions []aggregate.Session
	Messages [][]aggregate.Message
	Cards    []Card
}

func snap(s *Server) snapshot {
	var out snapshot
	for _, id := range s.SessionIDs() {
		sess, msgs, _ := s.Session(id)
		out.Sessions = append(out.Sessions, sess)
		out.Messages = append(out.Messages, msgs)
	}
	out.Cards = append(s.Persons(), s.SessionCards()...)
	return out
}

func TestGenerate_Deterministic(t *testing.T) {
	gen := func(seed uint64) snapshot {
		s := New(Options{Now: newClock().Now})
		if _, err := s.Generate(GenOptions{Sessions: 200, MessagesPerSession: 12, Agents: 4, Customers: 50, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return snap(s)
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different data")
	}
	if reflect.DeepEqual(a.Messages, c.Messages) {
		t.Error("different seeds, same transcripts")
	}
}

func TestGenerate_Shape(t *testing.T) {
	s := New(Options{Now: newClock().Now})
	const n, per = 500, 20
	sum, err := s.Generate(GenOptions{Sessions: n, MessagesPerSession: per, Agents: 6, Seed: 1, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sessions != n || sum.Messages != n*per || sum.Cards != n {
		t.Fatalf("summary %+v", sum)
	}
	var botOnly, never, transferred, twoChats, active int
	for _, id := range s.SessionIDs() {
		sess, msgs, _ := s.Session(id)
		if len(msgs) != per {
			t.Fatalf("%s has %d messages", id, len(msgs))
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) || (i > 0 && m.SentAt.Before(msgs[i-1].SentAt)) || !m.Sender.Type.Known() {
				t.Fatalf("%s message %d: %+v", id, i, m)
			}
		}
		if sess.UpdatedAt.Before(msgs[per-1].SentAt) || sess.StartedAt.Before(t0) || sess.StartedAt.After(t0.Add(24*time.Hour)) {
			t.Errorf("%s times: %+v", id, sess)
		}
		if sess.Ended() != !sess.EndedAt.IsZero() {
			t.Errorf("%s status %s ended_at %v", id, sess.Status, sess.EndedAt)
		}
		if !sess.Ended() {
			active++
		}
		switch {
		case len(sess.LiveChats) == 0:
			botOnly++
		case sess.LiveChats[0].ConnectedAt.IsZero():
			never++
		}
		if len(sess.LiveChats) > 1 {
			twoChats++
		}
		for _, lc := range sess.LiveChats {
			if len(lc.Agents) > 1 {
				transferred++
			}
			for _, a := range lc.Agents {
				if _, ok := s.PersonByEmail(a.Email); !ok {
					t.Errorf("no person card for agent %s", a.Email)
				}
			}
		}
		if e := sess.Customer.Email; e != "" {
			if _, ok := s.PersonByEmail(e); !ok {
				t.Errorf("no person card for customer %s", e)
			}
		}
		c, ok := s.CardBySession(id)
		if !ok || c.Text("is_chat_active") != "Yes" || c.Code("is_chat_active") != "yes" || len(c.Values) != 2 {
			t.Errorf("%s card %+v", id, c)
		}
	}
	for name, got := range map[string]int{"bot only": botOnly, "never connected": never, "transferred": transferred, "two live chats": twoChats, "active": active, "ended": n - active} {
		if got == 0 {
			t.Errorf("no %s sessions", name)
		}
	}
	if got := len(s.Persons()); got < n/2 || got > n+6 {
		t.Errorf("%d person cards", got)
	}
}

func TestGenerate_DefaultStartFollowsClock(t *testing.T) {
	c := newClock()
	s := New(Options{Now: c.Now})
	if _, err := s.Generate(GenOptions{Sessions: 10, EndedShare: 1}); err != nil {
		t.Fatal(err)
	}
	for _, id := range s.SessionIDs() {
		sess, _, _ := s.Session(id)
		if !sess.UpdatedAt.Before(c.Now()) || sess.StartedAt.Before(c.Now().Add(-26*time.Hour)) {
			t.Errorf("%s: %+v not in the day before now", id, sess)
		}
	}
	if _, err := s.Generate(GenOptions{Sessions: 1}); err == nil {
		t.Error("generating the same ids twice succeeded")
	}
}

// BenchmarkGenerate measures the data set the worker's benchmarks use.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		s := New(Options{})
		if _, err := s.Generate(GenOptions{Sessions: 40000, MessagesPerSession: 20, Agents: 20, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
