package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// ChurnOptions shape what each step of a Churner changes. Zero fields
// take the defaults named in their comments; a negative count is none.
type ChurnOptions struct {
	// Talks is how many active sessions get two new messages per step;
	// default 3.
	Talks int
	// Ends is how many active sessions end per step; default 1.
	Ends int
	// Opens is how many new sessions open per step; default 1.
	Opens int
	// MessagesPerSession is the length of an opened session's transcript;
	// default 4, at least 2.
	MessagesPerSession int
	// Agents is the agent pool of opened sessions, the same pool Generate
	// uses with as many agents; default 5.
	Agents int
	// NoCards opens sessions without a chat-session card, as for a
	// backfill; otherwise each gets one, as createChatSession makes it.
	NoCards bool
	// Seed makes the choices reproducible.
	Seed uint64
	// IDPrefix starts the ids of opened sessions; default "churn-".
	IDPrefix string
}

func (o ChurnOptions) withDefaults() ChurnOptions {
	o.Talks, o.Ends, o.Opens = orDefault(o.Talks, 3), orDefault(o.Ends, 1), orDefault(o.Opens, 1)
	o.MessagesPerSession = max(orDefault(o.MessagesPerSession, 4), 2)
	o.Agents = orDefault(o.Agents, 5)
	if o.IDPrefix == "" {
		o.IDPrefix = "churn-"
	}
	return o
}

// ChurnStep counts what one step changed.
type ChurnStep struct {
	// Messages were added to Talked sessions.
	Messages, Talked int
	// Ended sessions were ended; Opened sessions were added, Cards of
	// them with a card.
	Ended, Opened, Cards int
}

// String is the step as key=value pairs, for logs.
func (c ChurnStep) String() string {
	return fmt.Sprintf("messages=%d talked=%d ended=%d opened=%d cards=%d", c.Messages, c.Talked, c.Ended, c.Opened, c.Cards)
}

// Churner keeps a sandbox's chat platform moving the way a live one
// does: at each step some active sessions get new messages, some end, and
// new ones open (with their cards, as the chatbot opens them), so that a
// worker polling it has something to sync incrementally. A Churner's
// methods must not be called concurrently.
type Churner struct {
	s      *Server
	o      ChurnOptions
	rng    *rand.Rand
	agents []aggregate.Agent
	opened int
}

// NewChurner returns a Churner of s.
func (s *Server) NewChurner(o ChurnOptions) *Churner {
	o = o.withDefaults()
	return &Churner{
		s:      s,
		o:      o,
		rng:    rand.New(rand.NewPCG(o.Seed, o.Seed^0x2545f4914f6cdd1d)),
		agents: agentPool(max(o.Agents, 1)),
	}
}

// Run takes a step every interval until ctx ends, and hands each step's
// outcome to report when it is not nil.
func (c *Churner) Run(ctx context.Context, interval time.Duration, report func(ChurnStep, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			step, err := c.Step()
			if report != nil {
				report(step, err)
			}
		}
	}
}

// Step makes one round of changes: messages in Talks active sessions,
// Ends other active sessions ended, Opens new sessions.
func (c *Churner) Step() (ChurnStep, error) {
	var step ChurnStep
	active := c.s.activeSessionIDs()
	c.rng.Shuffle(len(active), func(i, j int) { active[i], active[j] = active[j], active[i] })
	talk := active[:min(c.o.Talks, len(active))]
	end := active[len(talk):min(len(talk)+c.o.Ends, len(active))]
	for _, id := range talk {
		n, err := c.talk(id)
		if err != nil {
			return step, err
		}
		step.Messages += n
		step.Talked++
	}
	for _, id := range end {
		if err := c.s.EndSession(id, time.Time{}); err != nil {
			return step, err
		}
		step.Ended++
	}
	for range c.o.Opens {
		card, err := c.open()
		if err != nil {
			return step, err
		}
		step.Opened++
		if card {
			step.Cards++
		}
	}
	return step, nil
}

// talk adds a customer's message and the answer to session id: the agent's
// when a live chat is connected and open, else the bot's.
func (c *Churner) talk(id string) (int, error) {
	sess, msgs, ok := c.s.Session(id)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrSessionNotFound, id)
	}
	at := c.s.now()
	if len(msgs) > 0 && msgs[len(msgs)-1].SentAt.After(at) {
		at = msgs[len(msgs)-1].SentAt
	}
	cust := sess.Customer
	visitor := aggregate.Message{SentAt: at, LiveChatID: "", Text: visitorLines[c.rng.IntN(len(visitorLines))],
		Sender: aggregate.Sender{Type: aggregate.SenderVisitor, ID: cust.ID, Name: cust.Name, Email: cust.Email}}
	answer := aggregate.Message{SentAt: at, Text: botLines[1+c.rng.IntN(len(botLines)-1)],
		Sender: aggregate.Sender{Type: aggregate.SenderBot, ID: "bot", Name: "Botti"}}
	if lc, a, ok := openStint(sess); ok {
		visitor.LiveChatID, answer.LiveChatID = lc, lc
		answer.Text = agentLines[c.rng.IntN(len(agentLines))]
		answer.Sender = aggregate.Sender{Type: aggregate.SenderAgent, ID: a.ID, Name: a.Name, Email: a.Email}
	}
	return 2, c.s.AppendMessages(id, visitor, answer)
}

// openStint is the session's connected live chat that has not ended and
// the agent in it, if there is one.
func openStint(sess aggregate.Session) (string, aggregate.Agent, bool) {
	for i := len(sess.LiveChats) - 1; i >= 0; i-- {
		lc := sess.LiveChats[i]
		if lc.ConnectedAt.IsZero() || !lc.EndedAt.IsZero() || len(lc.Agents) == 0 {
			continue
		}
		if a := lc.Agents[len(lc.Agents)-1]; a.LeftAt.IsZero() {
			return lc.ID, a, true
		}
	}
	return "", aggregate.Agent{}, false
}

// open adds a session that started a few minutes ago and is still going
// on, its people, and its card unless NoCards. It reports whether it made
// a card.
func (c *Churner) open() (bool, error) {
	c.opened++
	now := c.s.now()
	gen := &generator{
		g: GenOptions{Sessions: 1, MessagesPerSession: c.o.MessagesPerSession, Agents: len(c.agents),
			Seed: c.o.Seed, Start: now.Add(-10 * time.Minute), Span: time.Minute, EndedShare: -1,
			IDPrefix: c.o.IDPrefix}.withDefaults(now),
		rng:    c.rng,
		agents: c.agents,
	}
	sess, msgs := gen.session(0)
	sess.ID = fmt.Sprintf("%s%06d", c.o.IDPrefix, c.opened)
	sess.UpdatedAt = now
	for c.s.hasSession(sess.ID) { // a second Churner, or ids the data already uses
		c.opened++
		sess.ID = fmt.Sprintf("%s%06d", c.o.IDPrefix, c.opened)
	}
	if err := c.s.AddSession(sess, msgs); err != nil {
		return false, err
	}
	if err := c.s.addPeople(&sess); err != nil {
		return false, err
	}
	if c.o.NoCards {
		return false, nil
	}
	_, err := c.s.CreateChatSessionCard(sess.ID)
	return err == nil, err
}

// activeSessionIDs are the ids of the sessions not ended, sorted.
func (s *Server) activeSessionIDs() []string {
	c := s.chat
	c.mu.RLock()
	defer c.mu.RUnlock()
	var ids []string
	for id, cs := range c.sessions {
		if !cs.sess.Ended() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (s *Server) hasSession(id string) bool {
	c := s.chat
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.sessions[id]
	return ok
}
