package sandbox

import (
	"cmp"
	"crypto/sha1"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// The shapes the fake answers in, named as the vendor's models are
// (platformclientv2 Conversation, Participant, Message, Messagedetails,
// Messagedata, Conversationnormalizedmessage, User, Externalcontact). Times
// are written the vendor's way: UTC with milliseconds.

// gTime is a time written as the Platform API writes it.
type gTime time.Time

func (t gTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// gtime returns t for an optional member: nil for the zero time.
func gtime(t time.Time) *gTime {
	if t.IsZero() {
		return nil
	}
	g := gTime(t)
	return &g
}

type gConversation struct {
	ID             string         `json:"id"`
	StartTime      *gTime         `json:"startTime,omitempty"`
	EndTime        *gTime         `json:"endTime,omitempty"`
	Participants   []gParticipant `json:"participants"`
	RecordingState string         `json:"recordingState"`
	SelfURI        string         `json:"selfUri"`
}

type gParticipant struct {
	ID                string            `json:"id"`
	StartTime         *gTime            `json:"startTime,omitempty"`
	EndTime           *gTime            `json:"endTime,omitempty"`
	ConnectedTime     *gTime            `json:"connectedTime,omitempty"`
	Name              string            `json:"name,omitempty"`
	UserURI           string            `json:"userUri,omitempty"`
	UserID            string            `json:"userId,omitempty"`
	ExternalContactID string            `json:"externalContactId,omitempty"`
	QueueID           string            `json:"queueId,omitempty"`
	QueueName         string            `json:"queueName,omitempty"`
	Purpose           string            `json:"purpose"`
	ParticipantType   string            `json:"participantType"`
	WrapupRequired    bool              `json:"wrapupRequired"`
	Attributes        map[string]string `json:"attributes"`
	Messages          []gCommunication  `json:"messages"`
}

type gCommunication struct {
	State            string           `json:"state"`
	ID               string           `json:"id"`
	Held             bool             `json:"held"`
	Direction        string           `json:"direction"`
	ConnectedTime    *gTime           `json:"connectedTime,omitempty"`
	DisconnectedTime *gTime           `json:"disconnectedTime,omitempty"`
	Provider         string           `json:"provider"`
	Type             string           `json:"type"`
	Messages         []gMessageDetail `json:"messages"`
}

type gMessageDetail struct {
	MessageID           string        `json:"messageId"`
	MessageStatus       string        `json:"messageStatus"`
	MessageSegmentCount int           `json:"messageSegmentCount"`
	MessageTime         gTime         `json:"messageTime"`
	MessageMetadata     gMessageMetas `json:"messageMetadata"`
}

type gMessageMetas struct {
	Type string `json:"type"`
}

type gMessageData struct {
	ID                string      `json:"id"`
	Timestamp         gTime       `json:"timestamp"`
	Direction         string      `json:"direction"`
	MessengerType     string      `json:"messengerType"`
	TextBody          string      `json:"textBody,omitempty"`
	Status            string      `json:"status"`
	NormalizedMessage gNormalized `json:"normalizedMessage"`
	CreatedBy         *gRef       `json:"createdBy,omitempty"`
	ConversationID    string      `json:"conversationId"`
	SelfURI           string      `json:"selfUri"`
}

type gNormalized struct {
	ID                string   `json:"id"`
	Type              string   `json:"type"`
	Text              string   `json:"text,omitempty"`
	Events            []gEvent `json:"events,omitempty"`
	OriginatingEntity string   `json:"originatingEntity,omitempty"`
	Direction         string   `json:"direction"`
}

type gEvent struct {
	EventType string            `json:"eventType"`
	Presence  map[string]string `json:"presence,omitempty"`
}

type gRef struct {
	ID      string `json:"id"`
	SelfURI string `json:"selfUri"`
}

// gUser is a user (GET /api/v2/users/{id}); raw, when set, is served as is.
type gUser struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	State    string `json:"state"`
	Username string `json:"username,omitempty"`
	SelfURI  string `json:"selfUri"`
	raw      []byte
}

// gContact is an external contact; raw, when set, is served as is.
type gContact struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	WorkEmail string `json:"workEmail,omitempty"`
	SelfURI   string `json:"selfUri"`
	raw       []byte
}

// gView is one chat store session as Genesys Cloud shows it: the
// conversation and the bodies of its message ids.
type gView struct {
	conv   gConversation
	bodies map[string]json.RawMessage
}

const (
	gMessageType = "webmessaging"
	gQueueName   = "Support"
	gProvider    = "PureCloud Messaging"
)

func hashSum(s string) []byte {
	h := sha1.Sum([]byte(s))
	return h[:]
}

// ms is a time at the vendor's precision.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// view returns conversation convID translated from the chat store.
func (g *genesysPlatform) view(s *Server, convID string) (gView, bool) {
	domainID, ok := g.sessionOf(s, convID)
	if !ok {
		return gView{}, false
	}
	c := s.chat
	c.mu.RLock()
	cs, ok := c.sessions[domainID]
	var sess aggregate.Session
	var msgs []aggregate.Message
	if ok {
		sess = cloneSession(cs.sess)
		msgs = make([]aggregate.Message, len(cs.msgs))
		for i, m := range cs.msgs {
			msgs[i] = c.message(m)
		}
	}
	c.mu.RUnlock()
	if !ok {
		return gView{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.translate(convID, sess, msgs), true
}

// genesysEnd is when an ended session's conversation ended: its EndedAt,
// else the latest time it mentions.
func genesysEnd(s *aggregate.Session, msgs []aggregate.Message) time.Time {
	if !s.EndedAt.IsZero() {
		return s.EndedAt
	}
	return latest(s, msgs)
}

// genesysRequested is when a live chat's acd leg started: its RequestedAt,
// else its connect, its first agent's join, its first message, the
// session's start.
func genesysRequested(lc *aggregate.LiveChat, s *aggregate.Session, msgs []aggregate.Message) time.Time {
	if !lc.RequestedAt.IsZero() {
		return lc.RequestedAt
	}
	if !lc.ConnectedAt.IsZero() {
		return lc.ConnectedAt
	}
	for _, a := range lc.Agents {
		if !a.JoinedAt.IsZero() {
			return a.JoinedAt
		}
	}
	for _, m := range msgs {
		if m.LiveChatID == lc.ID {
			return m.SentAt
		}
	}
	return s.StartedAt
}

// expressible reports whether Genesys has a counterpart of a message of
// this sender type: it has no system messages and no other kinds of
// sender than the customer, bots and agents.
func expressible(t aggregate.SenderType) bool {
	return t == aggregate.SenderVisitor || t == aggregate.SenderBot || t == aggregate.SenderAgent
}

// translation builds one gView; the caller holds g.mu.
type translation struct {
	g        *genesysPlatform
	convID   string
	domainID string
	sess     *aggregate.Session
	end      time.Time // zero while active
	parts    []gParticipant
	listed   map[int][]gMessageDetail // by index into parts
	bodies   map[string]json.RawMessage
}

func (g *genesysPlatform) translate(convID string, sess aggregate.Session, msgs []aggregate.Message) gView {
	t := &translation{g: g, convID: convID, domainID: sess.ID, sess: &sess,
		listed: map[int][]gMessageDetail{}, bodies: map[string]json.RawMessage{}}
	if sess.Ended() {
		t.end = ms(genesysEnd(&sess, msgs))
	}
	cust := t.customer()
	bots := t.bots(msgs)
	agents := t.liveChats(msgs)
	t.joinEvent(cust)
	for _, m := range msgs {
		t.message(m, cust, bots, agents)
	}
	conv := gConversation{ID: convID, StartTime: gtime(ms(sess.StartedAt)), EndTime: gtime(t.end),
		RecordingState: "none", SelfURI: "/api/v2/conversations/" + convID}
	for i := range t.parts {
		p := t.parts[i]
		list := t.listed[i]
		slices.SortStableFunc(list, func(a, b gMessageDetail) int { return time.Time(a.MessageTime).Compare(time.Time(b.MessageTime)) })
		state := "connected"
		if p.EndTime != nil {
			state = "disconnected"
		}
		p.Messages = []gCommunication{{State: state, ID: genesysUUID("communication", p.ID), Direction: "inbound",
			ConnectedTime: p.ConnectedTime, DisconnectedTime: p.EndTime, Provider: gProvider, Type: gMessageType,
			Messages: append([]gMessageDetail{}, list...)}}
		conv.Participants = append(conv.Participants, p)
	}
	return gView{conv: conv, bodies: t.bodies}
}

func (t *translation) participant(p gParticipant) int {
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	t.parts = append(t.parts, p)
	return len(t.parts) - 1
}

// customer adds the customer participant; an identified customer (one with
// an email) is an external contact, as a web messaging customer who signed
// in is.
func (t *translation) customer() int {
	c := t.sess.Customer
	p := gParticipant{ID: genesysUUID("participant", t.domainID, "customer"), Name: c.Name,
		StartTime: gtime(ms(t.sess.StartedAt)), ConnectedTime: gtime(ms(t.sess.StartedAt)), EndTime: gtime(t.end),
		Purpose: "customer", ParticipantType: "External"}
	if c.Email != "" {
		id := genesysUUID("contact", c.ID, c.Name, c.Email)
		first, last, _ := cutName(c.Name)
		t.g.contacts[id] = gContact{ID: id, FirstName: first, LastName: last, WorkEmail: c.Email,
			SelfURI: "/api/v2/externalcontacts/contacts/" + id}
		t.g.remember(id, c.ID)
		p.ExternalContactID = id
	} else {
		t.g.remember(p.ID, c.ID)
	}
	return t.participant(p)
}

// cutName splits a name into a contact's first and last name.
func cutName(name string) (string, string, bool) {
	for i, r := range name {
		if r == ' ' {
			return name[:i], name[i+1:], true
		}
	}
	return name, "", false
}

type botKey struct{ id, name string }

// bots adds a workflow participant for every bot that writes: the
// Architect flow whose bot answers before the hand-off.
func (t *translation) bots(msgs []aggregate.Message) map[botKey]int {
	out := map[botKey]int{}
	end := t.end
	if len(t.sess.LiveChats) > 0 {
		end = ms(genesysRequested(&t.sess.LiveChats[0], t.sess, msgs))
	}
	for _, m := range msgs {
		k := botKey{m.Sender.ID, m.Sender.Name}
		if m.Sender.Type != aggregate.SenderBot {
			continue
		}
		if _, ok := out[k]; ok {
			continue
		}
		out[k] = t.participant(gParticipant{ID: genesysUUID("participant", t.domainID, "bot", k.id, k.name), Name: k.name,
			StartTime: gtime(ms(t.sess.StartedAt)), ConnectedTime: gtime(ms(t.sess.StartedAt)), EndTime: gtime(end),
			Purpose: "workflow", ParticipantType: "External"})
	}
	return out
}

// stint is an agent participant and the stint it stands for.
type stint struct {
	part     int
	user     string
	from, to time.Time
}

// liveChats adds an acd participant for every live chat and an agent
// participant for every stint; an agent who never joined is a participant
// alerted but never connected.
func (t *translation) liveChats(msgs []aggregate.Message) []stint {
	var out []stint
	for _, lc := range t.sess.LiveChats {
		req := ms(genesysRequested(&lc, t.sess, msgs))
		acdEnd := ms(lc.EndedAt)
		for _, a := range lc.Agents {
			if !a.JoinedAt.IsZero() && (acdEnd.IsZero() || a.JoinedAt.Before(acdEnd)) {
				acdEnd = ms(a.JoinedAt)
			}
		}
		if acdEnd.IsZero() {
			acdEnd = t.end
		}
		acd := genesysUUID("participant", t.domainID, "acd", lc.ID)
		t.g.remember(acd, lc.ID)
		t.participant(gParticipant{ID: acd, Name: gQueueName, QueueID: genesysUUID("queue", gQueueName), QueueName: gQueueName,
			StartTime: gtime(req), ConnectedTime: gtime(req), EndTime: gtime(acdEnd), Purpose: "acd", ParticipantType: "Acd"})
		for i, a := range lc.Agents {
			user := t.g.userFor(a.ID, a.Name, a.Email)
			p := gParticipant{ID: genesysUUID("participant", t.domainID, "agent", lc.ID, strconv.Itoa(i)), Name: a.Name,
				UserID: user, UserURI: "/api/v2/users/" + user, QueueID: genesysUUID("queue", gQueueName), QueueName: gQueueName,
				Purpose: "agent", ParticipantType: "Internal", WrapupRequired: true}
			if a.JoinedAt.IsZero() {
				p.StartTime, p.EndTime = gtime(req), gtime(acdEnd)
				t.participant(p)
				continue
			}
			left := ms(a.LeftAt)
			if left.IsZero() {
				left = t.end
			}
			p.StartTime, p.ConnectedTime, p.EndTime = gtime(ms(a.JoinedAt)), gtime(ms(a.JoinedAt)), gtime(left)
			out = append(out, stint{part: t.participant(p), user: user, from: ms(a.JoinedAt), to: left})
		}
	}
	return out
}

// userFor returns the user id of an agent identity, registering the user;
// the caller holds g.mu.
func (g *genesysPlatform) userFor(id, name, email string) string {
	uid := genesysUUID("user", id, name, email)
	if _, ok := g.users[uid]; !ok {
		g.users[uid] = gUser{ID: uid, Name: name, Email: email, State: "active", Username: email, SelfURI: "/api/v2/users/" + uid}
		g.remember(uid, id)
	}
	return uid
}

// joinEvent adds the presence event web messaging records when the
// customer joins: listed like a message, but no message.
func (t *translation) joinEvent(cust int) {
	id := genesysMessageID(t.domainID, "\x00join")
	at := ms(t.sess.StartedAt)
	t.body(gMessageData{ID: id, Timestamp: gTime(at), Direction: "inbound", MessengerType: gMessageType, Status: "received",
		NormalizedMessage: gNormalized{ID: id, Type: "Event", Direction: "Inbound",
			Events: []gEvent{{EventType: "Presence", Presence: map[string]string{"type": "Join"}}}}})
	t.list(cust, id, at, "received", "Event")
}

// message adds one transcript entry: listed by the customer's leg and by
// the leg of the bot or agent who sent it.
func (t *translation) message(m aggregate.Message, cust int, bots map[botKey]int, stints []stint) {
	if !expressible(m.Sender.Type) {
		return
	}
	id := genesysMessageID(t.domainID, m.ID)
	t.g.remember(id, m.ID)
	at := ms(m.SentAt)
	d := gMessageData{ID: id, Timestamp: gTime(at), MessengerType: gMessageType, TextBody: m.Text,
		NormalizedMessage: gNormalized{ID: id, Type: "Text", Text: m.Text}}
	status := "delivery-success"
	switch m.Sender.Type {
	case aggregate.SenderVisitor:
		d.Direction, d.Status, d.NormalizedMessage.Direction = "inbound", "received", "Inbound"
		status = "received"
	case aggregate.SenderBot:
		d.Direction, d.Status, d.NormalizedMessage.Direction = "outbound", status, "Outbound"
		d.NormalizedMessage.OriginatingEntity = "Bot"
		t.list(bots[botKey{m.Sender.ID, m.Sender.Name}], id, at, status, "Text")
	case aggregate.SenderAgent:
		d.Direction, d.Status, d.NormalizedMessage.Direction = "outbound", status, "Outbound"
		d.NormalizedMessage.OriginatingEntity = "Human"
		user := t.g.userFor(m.Sender.ID, m.Sender.Name, m.Sender.Email)
		d.CreatedBy = &gRef{ID: user, SelfURI: "/api/v2/users/" + user}
		if p, ok := stintOf(stints, user, at); ok {
			t.list(p, id, at, status, "Text")
		}
	}
	t.body(d)
	t.list(cust, id, at, status, "Text")
}

// stintOf returns the participant of user's latest stint that had begun at
// at.
func stintOf(stints []stint, user string, at time.Time) (int, bool) {
	found, part := false, 0
	for _, s := range stints {
		if s.user == user && !s.from.After(at) {
			found, part = true, s.part
		}
	}
	return part, found
}

func (t *translation) list(part int, id string, at time.Time, status, typ string) {
	t.listed[part] = append(t.listed[part], gMessageDetail{MessageID: id, MessageStatus: status,
		MessageSegmentCount: 1, MessageTime: gTime(at), MessageMetadata: gMessageMetas{Type: typ}})
}

func (t *translation) body(d gMessageData) {
	d.ConversationID = t.convID
	d.SelfURI = "/api/v2/conversations/messages/" + t.convID + "/messages/" + d.ID
	b, _ := json.Marshal(d)
	t.bodies[d.ID] = b
}

// compareGenesys orders two messages the way the adapter does: by time at
// the vendor's precision, then by message id.
func compareGenesys(domainID string, a, b aggregate.Message) int {
	return cmp.Or(ms(a.SentAt).Compare(ms(b.SentAt)),
		cmp.Compare(genesysMessageID(domainID, a.ID), genesysMessageID(domainID, b.ID)))
}
