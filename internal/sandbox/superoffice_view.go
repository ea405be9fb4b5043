package sandbox

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// How the SuperOffice fake renders the chat store's sessions. A
// SuperOffice session is one live chat; its agents are the user who
// accepted it and, after that, whoever a TransferedSession message names.
// The fake therefore serves a session of the store as:
//
//   - its live chats merged into one, requested at the session's start
//     (WhenRequested), connected when the first of them was (WhenStarted);
//     a session without live chats is the bot's alone (ChatbotIsActive);
//   - every agent stint of every live chat by joining time: the first is
//     the user who accepted it (at WhenStarted), each later one a
//     TransferedSession special message, posted at its joining time (never
//     before WhenStarted), before the first message posted after it; the
//     session's User is the last of them; leave times are not carried;
//   - visitor messages as ToUser, agent messages as ToCustomer, bot
//     messages as ToCustomer with SpecialType BotMessage, system messages
//     as Special, and messages of unknown senders as Type Invalid; each
//     message with the seq s gets ChatMessageId 16·s, and the k-th transfer
//     after it 16·s+k (at most 15 between two messages);
//   - ended sessions as Closed, or ClosedFromQueue when a live chat was
//     requested but none connected; open ones as InQueue, CustomerLast or
//     UserLast; every time with SuperOffice's precision (100 ns) in Oslo
//     time.
//
// Express is what the SuperOffice adapter makes of that, so that golden
// tests know the card to expect; docs/sources/superoffice.md lists how it
// differs from the session as the store holds it.

// soIDStep spaces ChatMessageIds so that transfer messages fit between.
const soIDStep = 16

// soZone is the zone the fake's WebAPI writes times in.
var soZone = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Oslo"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}()

// soTime is t as SuperOffice keeps it: in 100 ns ticks.
func soTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(100 * time.Nanosecond).UTC()
}

// soText is s as a JSON round trip leaves it: each byte of invalid UTF-8
// becomes U+FFFD.
func soText(s string) string { return string([]rune(s)) }

// soStint is one agent stint of a rendered session.
type soStint struct {
	assoc  int64
	name   string
	email  string
	joined time.Time
}

// soItem is one entry of a rendered transcript.
type soItem struct {
	id       int64
	typ      string // ChatMessageType
	special  string // ChatMessageSpecialType
	param    string
	author   string
	text     string
	posted   time.Time
	expected aggregate.Message // what the adapter makes of it
}

// soView is a session of the chat store as the fake serves it.
type soView struct {
	pid       int64
	sess      aggregate.Session // as the adapter sees it (Express)
	status    string
	user      *soStint
	chatbot   bool
	connected time.Time
	items     []soItem // by ChatMessageId
}

// view renders sess and msgs (any order; a repeated seq counts once).
func (p *superOfficePlatform) view(sess aggregate.Session, msgs []aggregate.Message) soView {
	msgs = aggregate.Normalize(msgs)
	v := soView{pid: p.platformID(sess.ID), chatbot: len(sess.LiveChats) == 0, connected: soConnected(sess)}
	stints := p.stints(sess, v.connected)
	if n := len(stints); n > 0 {
		v.user = &stints[n-1]
	}
	v.items = soTranscript(msgs, stints, v.connected, strconv.FormatInt(v.pid, 10))
	lastVisitor := len(msgs) > 0 && msgs[len(msgs)-1].Sender.Type == aggregate.SenderVisitor
	v.status = soStatus(sess, lastVisitor, v.connected)
	v.sess = v.expected(sess, stints)
	return v
}

// stints are sess's agent stints by joining time, every one joining at
// connected or later; none when no live chat connected.
func (p *superOfficePlatform) stints(sess aggregate.Session, connected time.Time) []soStint {
	if connected.IsZero() {
		return nil
	}
	var agents []aggregate.Agent
	for _, lc := range sess.LiveChats {
		agents = append(agents, lc.Agents...)
	}
	slices.SortStableFunc(agents, func(a, b aggregate.Agent) int { return a.JoinedAt.Compare(b.JoinedAt) })
	out := make([]soStint, len(agents))
	for i, a := range agents {
		joined := soTime(a.JoinedAt)
		if i == 0 || joined.Before(connected) {
			joined = connected
		}
		out[i] = soStint{assoc: p.associateOf(a), name: a.Name, email: a.Email, joined: joined}
	}
	return out
}

// soTranscript renders msgs (in seq order) with a TransferedSession message
// for each stint after the first, as SuperOffice would have posted them.
func soTranscript(msgs []aggregate.Message, stints []soStint, connected time.Time, lc string) []soItem {
	items := make([]soItem, 0, len(msgs)+len(stints))
	for _, m := range msgs {
		items = append(items, soMessage(m, connected, lc))
	}
	gap := map[int64]int64{}
	for _, st := range stints[min(1, len(stints)):] {
		i := slices.IndexFunc(msgs, func(m aggregate.Message) bool { return soTime(m.SentAt).After(st.joined) })
		var prev int64
		switch i {
		case -1:
			if n := len(msgs); n > 0 {
				prev = msgs[n-1].Seq
			}
		case 0:
		default:
			prev = msgs[i-1].Seq
		}
		gap[prev]++
		if gap[prev] >= soIDStep {
			continue // more transfers between two messages than ids
		}
		items = append(items, soTransfer(prev*soIDStep+gap[prev], st, lc))
	}
	slices.SortFunc(items, func(a, b soItem) int { return cmp.Compare(a.id, b.id) })
	return items
}

func soMessage(m aggregate.Message, connected time.Time, lc string) soItem {
	it := soItem{id: m.Seq * soIDStep, special: "None", author: soText(m.Sender.Name), text: soText(m.Text),
		posted: soTime(m.SentAt)}
	sender := m.Sender.Type
	switch sender {
	case aggregate.SenderVisitor:
		it.typ = "ToUser"
	case aggregate.SenderAgent:
		it.typ = "ToCustomer"
		if connected.IsZero() || it.posted.Before(connected) {
			sender = aggregate.SenderBot // SuperOffice: nobody had accepted the chat
		}
	case aggregate.SenderBot:
		it.typ, it.special = "ToCustomer", "BotMessage"
	case aggregate.SenderSystem:
		it.typ = "Special"
	default:
		it.typ, sender = "Invalid", aggregate.SenderSystem
	}
	it.expected = soExpected(it, sender, lc)
	return it
}

func soTransfer(id int64, st soStint, lc string) soItem {
	it := soItem{id: id, typ: "Special", special: "TransferedSession", param: strconv.FormatInt(st.assoc, 10),
		text: "The chat was transferred to " + soText(strings.TrimSpace(st.name)), posted: st.joined}
	it.expected = soExpected(it, aggregate.SenderSystem, lc)
	return it
}

// soExpected is what the adapter makes of item it written by sender.
func soExpected(it soItem, sender aggregate.SenderType, lc string) aggregate.Message {
	name := strings.TrimSpace(it.author)
	if sender == aggregate.SenderSystem && name == "" {
		name = "system"
	}
	return aggregate.Message{Seq: it.id, ID: strconv.FormatInt(it.id, 10), SentAt: it.posted,
		Sender: aggregate.Sender{Type: sender, Name: name}, LiveChatID: lc, Text: it.text}
}

// soConnected is WhenStarted: when the first of sess's live chats connected.
func soConnected(sess aggregate.Session) time.Time {
	var connected time.Time
	for _, lc := range sess.LiveChats {
		if c := soTime(lc.ConnectedAt); !c.IsZero() && (connected.IsZero() || c.Before(connected)) {
			connected = c
		}
	}
	return connected
}

// soStatus is the ChatSessionStatus the fake gives sess, whose customer
// wrote last when lastVisitor.
func soStatus(sess aggregate.Session, lastVisitor bool, connected time.Time) string {
	queued := len(sess.LiveChats) > 0 && connected.IsZero()
	switch {
	case sess.Ended() && queued:
		return "ClosedFromQueue"
	case sess.Ended():
		return "Closed"
	case queued:
		return "InQueue"
	case lastVisitor:
		return "CustomerLast"
	}
	return "UserLast"
}

// idle is WhenIdle: the last message's time, else the session's start.
func (v *soView) idle(sess aggregate.Session) time.Time {
	if n := len(v.items); n > 0 {
		last := v.items[0].posted
		for _, it := range v.items {
			if it.posted.After(last) {
				last = it.posted
			}
		}
		return last
	}
	return soTime(sess.StartedAt)
}

// whenEnded is the WhenEnded the fake serves: the end of an ended session.
func whenEnded(sess aggregate.Session) time.Time {
	if !sess.Ended() {
		return time.Time{}
	}
	return soTime(sess.EndedAt)
}

// expected is the session as the adapter reads the rendering back: one
// live chat (none for the bot's alone), the agents as SuperOffice knows
// them, and for a session already transferred when first read, the first
// agent by the author of the first agent message only.
func (v *soView) expected(sess aggregate.Session, stints []soStint) aggregate.Session {
	id := strconv.FormatInt(v.pid, 10)
	out := aggregate.Session{ID: sess.ID, Status: aggregate.StatusActive, StartedAt: soTime(sess.StartedAt),
		UpdatedAt: sess.UpdatedAt,
		Customer:  aggregate.Customer{Name: strings.TrimSpace(soText(sess.Customer.Name)), Email: strings.TrimSpace(soText(sess.Customer.Email))}}
	if sess.Ended() {
		out.Status = aggregate.StatusEnded
		if out.EndedAt = whenEnded(sess); out.EndedAt.IsZero() {
			out.EndedAt = v.idle(sess)
		}
	}
	if v.chatbot {
		return out
	}
	lc := aggregate.LiveChat{ID: id, RequestedAt: out.StartedAt, ConnectedAt: v.connected, EndedAt: out.EndedAt}
	for i, st := range stints {
		a := aggregate.Agent{ID: strconv.FormatInt(st.assoc, 10), Name: strings.TrimSpace(soText(st.name)),
			Email: strings.TrimSpace(soText(st.email)), JoinedAt: st.joined}
		if i == 0 && len(stints) > 1 {
			if a = v.firstByAuthor(); a.Name == "" {
				continue
			}
		}
		lc.Agents = append(lc.Agents, a)
	}
	out.LiveChats = []aggregate.LiveChat{lc}
	return out
}

// firstByAuthor is the first agent of a session read first after a
// transfer: the author of the first agent message, by name only.
func (v *soView) firstByAuthor() aggregate.Agent {
	for _, it := range v.items {
		if m := it.expected; m.Sender.Type == aggregate.SenderAgent && m.Sender.Name != "" {
			return aggregate.Agent{Name: m.Sender.Name, JoinedAt: v.connected}
		}
	}
	return aggregate.Agent{}
}

// messages are the transcript as the adapter returns it.
func (v *soView) messages() []aggregate.Message {
	out := make([]aggregate.Message, len(v.items))
	for i, it := range v.items {
		out[i] = it.expected
	}
	return out
}
