package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// GenOptions shape the data Generate makes. Zero fields take the defaults
// named in their comments; a share of 0 is its default, a negative share
// is none.
type GenOptions struct {
	// Sessions is the number of sessions; default 100.
	Sessions int
	// MessagesPerSession is the exact transcript length; default 20,
	// at least 2.
	MessagesPerSession int
	// Agents is the size of the agent pool; default 5.
	Agents int
	// Customers is the size of the customer pool; default one customer
	// per session.
	Customers int
	// Seed makes the data reproducible: same options, same data.
	Seed uint64
	// Start is when the first session starts; default Now - Span - 1h,
	// truncated to the minute. Pass it for data independent of the clock.
	Start time.Time
	// Span spreads session starts evenly; default 24h.
	Span time.Duration
	// EndedShare of sessions are ended; default 0.6.
	EndedShare float64
	// BotOnlyShare of sessions never ask for a live chat; default 0.1.
	BotOnlyShare float64
	// NeverConnectedShare of sessions ask for a live chat that is never
	// established; default 0.1.
	NeverConnectedShare float64
	// TransferShare of connected live chats are transferred to a second
	// agent; default 0.2.
	TransferShare float64
	// SecondChatShare of connected sessions have a later, second live chat
	// with another agent; default 0.05.
	SecondChatShare float64
	// IDPrefix starts every session id; default "ws-".
	IDPrefix string
	// NoCards skips the chat-session cards; person cards are always made.
	NoCards bool
}

// GenSummary counts what Generate added.
type GenSummary struct {
	Sessions int
	Messages int
	Ended    int
	Cards    int
}

// orDefault reads an option where zero asks for the default and a
// negative value for none.
func orDefault[T int | float64](v, def T) T {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

func (g GenOptions) withDefaults(now time.Time) GenOptions {
	if g.Sessions <= 0 {
		g.Sessions = 100
	}
	if g.MessagesPerSession <= 0 {
		g.MessagesPerSession = 20
	}
	g.MessagesPerSession = max(g.MessagesPerSession, 2)
	if g.Agents <= 0 {
		g.Agents = 5
	}
	if g.Span <= 0 {
		g.Span = 24 * time.Hour
	}
	if g.Start.IsZero() {
		g.Start = now.Add(-g.Span - time.Hour).Truncate(time.Minute)
	}
	g.Start = g.Start.UTC()
	g.EndedShare = orDefault(g.EndedShare, 0.6)
	g.BotOnlyShare = orDefault(g.BotOnlyShare, 0.1)
	g.NeverConnectedShare = orDefault(g.NeverConnectedShare, 0.1)
	g.TransferShare = orDefault(g.TransferShare, 0.2)
	g.SecondChatShare = orDefault(g.SecondChatShare, 0.05)
	if g.IDPrefix == "" {
		g.IDPrefix = "ws-"
	}
	return g
}

// Generate adds realistic, reproducible sessions: a bot greeting, the
// visitor, often a live chat requested and connected with agents from a
// pool (sometimes transferred, sometimes followed by a second live chat,
// sometimes never connected), some sessions ended and the rest active. It
// adds person cards for agents and customers and, unless NoCards, a
// chat-session card per session as createChatSession would.
//
// Transcripts are generated one session at a time, so 40,000 sessions of
// 20 messages take seconds and little more memory than they occupy.
func (s *Server) Generate(g GenOptions) (GenSummary, error) {
	g = g.withDefaults(s.now())
	gen := &generator{
		g:      g,
		rng:    rand.New(rand.NewPCG(g.Seed, g.Seed^0x5851f42d4c957f2d)),
		agents: agentPool(g.Agents),
	}
	var sum GenSummary
	for _, a := range gen.agents {
		if _, err := s.AddPerson(a.Name, a.Email); err != nil {
			return sum, err
		}
	}
	for i := range g.Sessions {
		sess, msgs := gen.session(i)
		if err := s.AddSession(sess, msgs); err != nil {
			return sum, err
		}
		if c := sess.Customer; c.Email != "" {
			if _, err := s.AddPerson(c.Name, strings.ToLower(c.Email)); err != nil {
				return sum, err
			}
		}
		sum.Sessions++
		sum.Messages += len(msgs)
		if sess.Ended() {
			sum.Ended++
		}
		if g.NoCards {
			continue
		}
		if _, err := s.CreateChatSessionCard(sess.ID); err != nil {
			return sum, err
		}
		sum.Cards++
	}
	return sum, nil
}

var (
	firstNames = []string{"Maija", "Matti", "Anna", "Juha", "Laura", "Mikko", "Sanna", "Antti", "Emma", "Ville", "Aino", "Olli", "Helmi", "Eero", "Sofia", "Lauri"}
	lastNames  = []string{"Meikäläinen", "Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Laine", "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Saarinen"}
	agentNames = []string{"Ann Agent", "Bob Builder", "Carla Support", "Dan Desk", "Eve Helper", "Frank Fixer", "Gina Guide", "Hugo Helpdesk"}

	botLines = []string{
		"Hi, I'm Botti. How can I help you today?",
		"Could you describe the problem in a few words?",
		"Here is an article that may help: https://support.example.com/kb/123",
		"Did that answer your question?",
		"I can connect you to a person if you like.",
	}
	visitorLines = []string{
		"My VPN is down",
		"I can't log in to the portal",
		"The printer on floor 3 is jammed",
		"I need a new laptop charger",
		"How do I reset my password?",
		"It still doesn't work",
		"Thanks!",
		"Error code 0x80070005 when I try again",
		"It says 'access denied'\nand then nothing happens",
		"ok",
	}
	agentLines = []string{
		"Hello, let me check that for you.",
		"Could you tell me your device name?",
		"I have reset it now, please try again.",
		"Let me look into the logs.",
		"Is there anything else I can help with?",
		"That should be fixed now.",
		"Please restart the application\nand sign in again.",
	}
)

var asciiFold = strings.NewReplacer("ä", "a", "ö", "o", "å", "a", "Ä", "A", "Ö", "O", " ", ".")

func agentPool(n int) []aggregate.Agent {
	out := make([]aggregate.Agent, n)
	for i := range out {
		name := agentNames[i%len(agentNames)]
		if i >= len(agentNames) {
			name += " " + strconv.Itoa(i/len(agentNames)+1)
		}
		out[i] = aggregate.Agent{
			ID:    "a-" + strconv.Itoa(i+1),
			Name:  name,
			Email: strings.ToLower(asciiFold.Replace(name)) + "@support.example.com",
		}
	}
	return out
}

type generator struct {
	g      GenOptions
	rng    *rand.Rand
	agents []aggregate.Agent
	msgs   []aggregate.Message // reused between sessions
}

func (gen *generator) customer(i int) aggregate.Customer {
	c := i
	if gen.g.Customers > 0 {
		c = gen.rng.IntN(gen.g.Customers)
	}
	first := firstNames[c%len(firstNames)]
	last := lastNames[(c/len(firstNames))%len(lastNames)]
	email := strings.ToLower(asciiFold.Replace(first+"."+last)) + strconv.Itoa(c+1) + "@example.com"
	cust := aggregate.Customer{ID: "u-" + strconv.Itoa(c+1), Name: first + " " + last, Email: email}
	switch u := gen.rng.Float64(); {
	case u < 0.03:
		cust.Email = "" // an anonymous visitor: the customer stays unresolved
	case u < 0.13:
		// The platform keeps the case the visitor typed; ESM matches
		// emails case-insensitively.
		cust.Email = strings.ToUpper(email[:1]) + email[1:]
	}
	return cust
}

// session builds session i and its transcript, exactly
// MessagesPerSession messages long.
func (gen *generator) session(i int) (aggregate.Session, []aggregate.Message) {
	g := gen.g
	start := g.Start.Add(time.Duration(int64(g.Span) * int64(i) / int64(g.Sessions))).Truncate(time.Second)
	b := &builder{
		gen:  gen,
		want: g.MessagesPerSession,
		t:    start,
		sess: aggregate.Session{
			ID:        fmt.Sprintf("%s%06d", g.IDPrefix, i+1),
			Status:    aggregate.StatusActive,
			StartedAt: start,
			Customer:  gen.customer(i),
		},
		msgs: gen.msgs[:0],
	}
	b.play()
	if gen.rng.Float64() < g.EndedShare {
		b.end()
	}
	gen.msgs = b.msgs
	return b.sess, b.msgs
}

// builder writes one session's transcript and keeps its live chats in
// step with it.
type builder struct {
	gen  *generator
	want int
	t    time.Time
	sess aggregate.Session
	msgs []aggregate.Message
}

func (b *builder) full() bool { return len(b.msgs) >= b.want }

func (b *builder) pick(lines []string) string { return lines[b.gen.rng.IntN(len(lines))] }

func (b *builder) wait(minSec, maxSec int) {
	b.t = b.t.Add(time.Duration(minSec+b.gen.rng.IntN(maxSec-minSec+1)) * time.Second)
}

func (b *builder) say(sender aggregate.Sender, liveChat, text string) {
	if b.full() {
		return
	}
	b.msgs = append(b.msgs, aggregate.Message{
		Seq: int64(len(b.msgs) + 1), SentAt: b.t, Sender: sender, LiveChatID: liveChat, Text: text,
	})
}

func (b *builder) visitor(liveChat string) {
	c := b.sess.Customer
	b.wait(5, 40)
	b.say(aggregate.Sender{Type: aggregate.SenderVisitor, ID: c.ID, Name: c.Name, Email: c.Email}, liveChat, b.pick(visitorLines))
}

func (b *builder) bot(text string) {
	b.wait(1, 3)
	b.say(aggregate.Sender{Type: aggregate.SenderBot, ID: "bot", Name: "Botti"}, "", text)
}

func (b *builder) system(liveChat, text string) {
	b.wait(0, 2)
	b.say(aggregate.Sender{Type: aggregate.SenderSystem, Name: "System"}, liveChat, text)
}

func (b *builder) agent(a aggregate.Agent, liveChat string) {
	b.wait(10, 90)
	b.say(aggregate.Sender{Type: aggregate.SenderAgent, ID: a.ID, Name: a.Name, Email: a.Email}, liveChat, b.pick(agentLines))
}

// play writes the transcript: greeting, question, then a bot-only talk,
// a live chat that never connects, or one or two connected live chats.
func (b *builder) play() {
	g := b.gen.g
	b.bot(botLines[0])
	b.visitor("")
	u := b.gen.rng.Float64()
	switch {
	case u < g.BotOnlyShare:
		b.botTalk()
	case u < g.BotOnlyShare+g.NeverConnectedShare:
		b.unanswered()
		b.botTalk()
	default:
		first := b.agentIdx(-1)
		second := b.liveChat(first, true)
		if !b.full() && b.gen.rng.Float64() < g.SecondChatShare {
			b.wait(60, 600)
			b.visitor("")
			b.liveChat(b.agentIdx(second), false)
		}
		b.botTalk()
	}
}

func (b *builder) botTalk() {
	for !b.full() {
		b.bot(b.pick(botLines[1:]))
		b.visitor("")
	}
}

func (b *builder) unanswered() {
	b.wait(1, 5)
	lc := aggregate.LiveChat{ID: "lc-1", RequestedAt: b.t}
	b.sess.LiveChats = append(b.sess.LiveChats, lc)
	b.system("lc-1", "Connecting you to an agent…")
	b.wait(60, 300)
	b.system("lc-1", "No agents are available right now. Please try again later.")
}

// agentIdx picks an agent of the pool other than not (when possible).
func (b *builder) agentIdx(not int) int {
	n := len(b.gen.agents)
	i := b.gen.rng.IntN(n)
	if i == not && n > 1 {
		i = (i + 1) % n
	}
	return i
}

// liveChat writes one connected live chat with agent ai, transferred to a
// second agent with TransferShare when mayTransfer. It returns the index
// of the last agent and leaves the live chat ended when the transcript
// goes on after it.
func (b *builder) liveChat(ai int, mayTransfer bool) int {
	id := "lc-" + strconv.Itoa(len(b.sess.LiveChats)+1)
	b.wait(1, 5)
	lc := aggregate.LiveChat{ID: id, RequestedAt: b.t}
	b.system(id, "Connecting you to an agent…")
	b.wait(20, 180)
	lc.ConnectedAt = b.t
	stint := b.gen.agents[ai]
	stint.JoinedAt = b.t
	lc.Agents = append(lc.Agents, stint)
	b.system(id, stint.Name+" joined the chat")
	transferAt := -1
	if mayTransfer && b.gen.rng.Float64() < b.gen.g.TransferShare {
		transferAt = 2 + b.gen.rng.IntN(3)
	}
	turns := 3 + b.gen.rng.IntN(6)
	for turn := 0; turn < turns && !b.full(); turn++ {
		if turn == transferAt {
			next := b.agentIdx(ai)
			b.wait(5, 30)
			lc.Agents[len(lc.Agents)-1].LeftAt = b.t
			stint = b.gen.agents[next]
			stint.JoinedAt = b.t
			lc.Agents = append(lc.Agents, stint)
			b.system(id, "The chat was transferred to "+stint.Name)
			ai = next
		}
		if turn > 0 || b.gen.rng.IntN(5) > 0 { // sometimes the agent speaks first
			b.visitor(id)
		}
		b.agent(lc.Agents[len(lc.Agents)-1], id)
	}
	if !b.full() {
		b.wait(5, 30)
		lc.EndedAt = b.t
		lc.Agents[len(lc.Agents)-1].LeftAt = b.t
		b.system(id, "The live chat has ended")
	}
	b.sess.LiveChats = append(b.sess.LiveChats, lc)
	return ai
}

// end closes the session shortly after its last message.
func (b *builder) end() {
	b.wait(10, 60)
	b.sess.Status = aggregate.StatusEnded
	b.sess.EndedAt = b.t
	for i := range b.sess.LiveChats {
		lc := &b.sess.LiveChats[i]
		if lc.EndedAt.IsZero() {
			lc.EndedAt = b.t
		}
		for j := range lc.Agents {
			if lc.Agents[j].LeftAt.IsZero() {
				lc.Agents[j].LeftAt = b.t
			}
		}
	}
}
