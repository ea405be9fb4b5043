package aggregate

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)

// at is t0 plus sec seconds; sec < 0 is "no time".
func at(sec float64) time.Time {
	if sec < 0 {
		return time.Time{}
	}
	return t0.Add(time.Duration(sec * float64(time.Second)))
}

var (
	maija = Customer{ID: "u-9", Name: "Maija Meikäläinen", Email: "maija@example.com"}
	ann   = Agent{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com"}
	bob   = Agent{ID: "a-2", Name: "Bob Builder", Email: "bob@example.com"}
	cecil = Agent{ID: "a-3", Name: "Cecil", Email: "cecil@example.com"}
)

func joined(a Agent, sec float64) Agent { a.JoinedAt = at(sec); return a }

func chat(id string, requested, connected float64, agents ...Agent) LiveChat {
	return LiveChat{ID: id, RequestedAt: at(requested), ConnectedAt: at(connected), Agents: agents}
}

func msg(seq int64, sec float64, typ SenderType, name, liveChat, text string) Message {
	return Message{Seq: seq, SentAt: at(sec), Sender: Sender{Type: typ, Name: name}, LiveChatID: liveChat, Text: text}
}

func session(status Status, chats ...LiveChat) Session {
	s := Session{ID: "ws-1", Status: status, StartedAt: t0, Customer: maija, LiveChats: chats}
	if status == StatusEnded {
		s.EndedAt = at(420)
	}
	return s
}

func seconds(n int64) *int64 { return &n }

func person(name, email string) *Identity { return &Identity{Name: name, Email: email} }

var (
	idMaija = Identity{Name: "Maija Meikäläinen", Email: "maija@example.com"}
	idAnn   = Identity{Name: "Ann Agent", Email: "ann@example.com"}
	idBob   = Identity{Name: "Bob Builder", Email: "bob@example.com"}
	idCecil = Identity{Name: "Cecil", Email: "cecil@example.com"}
)

func opts() Options { return Options{Now: at(600), Location: time.UTC, MaxActiveAge: 168 * time.Hour} }

func TestAggregate(t *testing.T) {
	helsinki := mustZone(t, "Europe/Helsinki")
	tests := []struct {
		name  string
		s     Session
		msgs  []Message
		opt   func(*Options)
		check func(t *testing.T, c Card)
	}{
		// a session the customer may still reopen
		{
			name: "ended but reopenable: values written, active kept, no end time",
			s: func() Session {
				s := session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20)))
				s.ReopenableUntil = at(420 + 1800)
				return s
			}(),
			msgs: []Message{msg(1, 25, SenderVisitor, "Maija", "lc-1", "thanks")},
			opt:  func(o *Options) { o.Now = at(600) },
			check: func(t *testing.T, c Card) {
				eq(t, "Active", c.Active, true)
				eq(t, "EndTime", c.EndTime == nil, true)
				eq(t, "MessageCount", c.MessageCount, 1)
			},
		},
		{
			name: "ended and the reopen grace over: final",
			s: func() Session {
				s := session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20)))
				s.ReopenableUntil = at(420 + 1800)
				return s
			}(),
			opt: func(o *Options) { o.Now = at(420 + 1800) },
			check: func(t *testing.T, c Card) {
				eq(t, "Active", c.Active, false)
				eq(t, "EndTime", *c.EndTime, at(420))
			},
		},
		// message_count
		{
			name: "message_count counts every sender type",
			s:    session(StatusActive, chat("lc-1", 10, 20, joined(ann, 20))),
			msgs: []Message{
				msg(1, 1, SenderBot, "Botti", "", "hi"),
				msg(2, 5, SenderVisitor, "Maija", "", "help"),
				msg(3, 20, SenderSystem, "", "lc-1", "Ann joined"),
				msg(4, 30, SenderAgent, "Ann Agent", "lc-1", "hello"),
				msg(5, 31, "supervisor", "Sam", "lc-1", "monitoring"),
			},
			check: func(t *testing.T, c Card) {
				eq(t, "MessageCount", c.MessageCount, 5)
				eq(t, "UnknownSenders", c.UnknownSenders, 1)
			},
		},
		{
			name: "empty transcript",
			s:    session(StatusActive),
			check: func(t *testing.T, c Card) {
				eq(t, "MessageCount", c.MessageCount, 0)
				eq(t, "ChatLog", c.ChatLog, "")
				eq(t, "TranscriptMissing", c.TranscriptMissing, false)
			},
		},
		{
			name: "transcript not delivered yet: count and log without value",
			s: func() Session {
				s := session(StatusActive)
				s.TranscriptMissing = true
				return s
			}(),
			check: func(t *testing.T, c Card) {
				eq(t, "TranscriptMissing", c.TranscriptMissing, true)
				eq(t, "FirstReplyWait", c.FirstReplyWait == nil, true)
			},
		},
		{
			name: "duplicate seq counted once, out of order sorted",
			s:    session(StatusActive),
			msgs: []Message{
				msg(3, 3, SenderVisitor, "Maija", "", "third"),
				msg(1, 1, SenderBot, "Botti", "", "first"),
				msg(2, 2, SenderVisitor, "Maija", "", "second"),
				msg(1, 1, SenderBot, "Botti", "", "first"),
			},
			check: func(t *testing.T, c Card) {
				eq(t, "MessageCount", c.MessageCount, 3)
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 09:00:01 Botti (bot): first\n"+
					"2024-06-03 09:00:02 Maija (customer): second\n"+
					"2024-06-03 09:00:03 Maija (customer): third")
			},
		},
		// chat_log
		{
			name: "chat_log roles, empty names and unknown senders",
			s:    session(StatusActive),
			msgs: []Message{
				msg(1, 1, SenderVisitor, "", "", "a"),
				msg(2, 2, SenderAgent, "", "", "b"),
				msg(3, 3, SenderBot, "", "", "c"),
				msg(4, 4, SenderSystem, "", "", "d"),
				msg(5, 5, "supervisor", "Sam", "", "e"),
			},
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 09:00:01 customer (customer): a\n"+
					"2024-06-03 09:00:02 agent (agent): b\n"+
					"2024-06-03 09:00:03 bot (bot): c\n"+
					"2024-06-03 09:00:04 system (system): d\n"+
					"2024-06-03 09:00:05 Sam (system): e")
			},
		},
		{
			name: "chat_log in the tenant zone, input with a non-UTC offset",
			s:    session(StatusActive),
			msgs: []Message{{Seq: 1, SentAt: time.Date(2024, 6, 3, 2, 0, 1, 0, time.FixedZone("", -7*3600)), Sender: Sender{Type: SenderBot, Name: "Botti"}, Text: "Hi, I'm Botti"}},
			opt:  func(o *Options) { o.Location = helsinki },
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 12:00:01 Botti (bot): Hi, I'm Botti")
			},
		},
		{
			name: "chat_log across the daylight-saving change in Europe/Helsinki",
			s:    session(StatusActive),
			msgs: []Message{
				{Seq: 1, SentAt: time.Date(2024, 10, 27, 0, 59, 30, 0, time.UTC), Sender: Sender{Type: SenderVisitor, Name: "Maija"}, Text: "before"},
				{Seq: 2, SentAt: time.Date(2024, 10, 27, 1, 0, 30, 0, time.UTC), Sender: Sender{Type: SenderVisitor, Name: "Maija"}, Text: "after"},
			},
			opt: func(o *Options) { o.Location = helsinki },
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-10-27 03:59:30 Maija (customer): before\n"+
					"2024-10-27 03:00:30 Maija (customer): after")
			},
		},
		{
			name: "chat_log multi-line message continues indented",
			s:    session(StatusActive),
			msgs: []Message{msg(1, 1, SenderVisitor, "Maija", "", "line one\nline two\r\nline three\r2024-06-03 09:00:02 Ann Agent (agent): forged")},
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 09:00:01 Maija (customer): line one\n"+
					"  line two\n"+
					"  line three\n"+
					"  2024-06-03 09:00:02 Ann Agent (agent): forged")
			},
		},
		{
			name: "chat_log cut at an entry boundary with chat_log_max_chars",
			s:    session(StatusActive),
			msgs: []Message{
				msg(1, 1, SenderBot, "Botti", "", "one"),
				msg(2, 2, SenderVisitor, "Maija", "", "two\nlines"),
				msg(3, 3, SenderBot, "Botti", "", "three"),
				msg(4, 4, SenderBot, "Botti", "", "four"),
			},
			// Entry 1 is 36 characters, entry 2 is 49, a marker 19:
			// 36+1+19 = 56 fits, 36+1+49+1+19 = 106 does not.
			opt: func(o *Options) { o.ChatLogMaxChars = 100 },
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 09:00:01 Botti (bot): one\n[… 3 more messages]")
				eq(t, "MessageCount", c.MessageCount, 4)
			},
		},
		{
			name: "chat_log that fits is not cut",
			s:    session(StatusActive),
			msgs: []Message{msg(1, 1, SenderBot, "Botti", "", "one")},
			opt:  func(o *Options) { o.ChatLogMaxChars = 36 },
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 09:00:01 Botti (bot): one")
			},
		},
		{
			name: "chat_log one character short of the whole log",
			s:    session(StatusActive),
			msgs: []Message{msg(1, 1, SenderBot, "Botti", "", "one"), msg(2, 2, SenderBot, "Botti", "", "two")},
			opt:  func(o *Options) { o.ChatLogMaxChars = 36 + 1 + 36 - 1 },
			check: func(t *testing.T, c Card) {
				eq(t, "ChatLog", c.ChatLog, "2024-06-03 09:00:01 Botti (bot): one\n[… 1 more messages]")
			},
		},
		// customer and members
		{
			name: "customer is the session's customer",
			s:    session(StatusActive),
			check: func(t *testing.T, c Card) {
				eq(t, "Customer", c.Customer, &idMaija)
				eq(t, "Members", c.Members, []Identity{idMaija})
			},
		},
		{
			name: "customer absent: no value, members start with the agents",
			s:    Session{ID: "ws-1", Status: StatusActive, StartedAt: t0, LiveChats: []LiveChat{chat("lc-1", 1, 2, joined(ann, 2))}},
			check: func(t *testing.T, c Card) {
				eq(t, "Customer", c.Customer, (*Identity)(nil))
				eq(t, "Members", c.Members, []Identity{idAnn})
			},
		},
		{
			name: "members: customer, then agents by first joined_at, each once",
			s: session(StatusEnded,
				chat("lc-2", 200, 210, joined(cecil, 210), joined(ann, 250)),
				chat("lc-1", 10, 20, joined(ann, 20), joined(bob, 100))),
			check: func(t *testing.T, c Card) {
				eq(t, "Members", c.Members, []Identity{idMaija, idAnn, idBob, idCecil})
			},
		},
		{
			name: "emails that differ only in case are one person",
			s: session(StatusEnded,
				chat("lc-1", 10, 20, joined(ann, 20)),
				chat("lc-2", 200, 210, joined(Agent{Name: "Ann Agent", Email: " ANN@Example.com "}, 210))),
			check: func(t *testing.T, c Card) {
				eq(t, "Members", c.Members, []Identity{idMaija, idAnn})
				eq(t, "SupportPerson", c.SupportPerson, &idAnn)
			},
		},
		// support_person
		{
			name: "support_person: no agent, no value",
			s:    session(StatusEnded, chat("lc-1", 10, -1)),
			check: func(t *testing.T, c Card) {
				eq(t, "SupportPerson", c.SupportPerson, (*Identity)(nil))
				eq(t, "Members", c.Members, []Identity{idMaija})
			},
		},
		{
			name:  "support_person: a transfer Ann → Bob makes Bob",
			s:     session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20), joined(bob, 100))),
			check: func(t *testing.T, c Card) { eq(t, "SupportPerson", c.SupportPerson, &idBob) },
		},
		{
			name: "support_person: Ann rejoining later makes her again",
			s: session(StatusEnded,
				chat("lc-1", 10, 20, joined(ann, 20), joined(bob, 100)),
				chat("lc-2", 200, 210, joined(ann, 210))),
			check: func(t *testing.T, c Card) {
				eq(t, "SupportPerson", c.SupportPerson, &idAnn)
				eq(t, "Members", c.Members, []Identity{idMaija, idAnn, idBob})
			},
		},
		{
			name: "support_person: latest joiner wins whatever the order of the data",
			s: session(StatusEnded,
				chat("lc-2", 200, 210, joined(cecil, 210)),
				chat("lc-1", 10, 20, joined(bob, 20))),
			check: func(t *testing.T, c Card) { eq(t, "SupportPerson", c.SupportPerson, &idCecil) },
		},
		// start_time and end_time
		{
			name: "start_time in UTC, end_time when ended",
			s: Session{ID: "ws-1", Status: StatusEnded,
				StartedAt: time.Date(2024, 6, 3, 12, 0, 0, 900e6, time.FixedZone("EEST", 3*3600)),
				EndedAt:   time.Date(2024, 6, 3, 5, 7, 0, 0, time.FixedZone("", -4*3600))},
			check: func(t *testing.T, c Card) {
				eq(t, "StartTime", c.StartTime, time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC))
				eq(t, "EndTime", c.EndTime, ptr(time.Date(2024, 6, 3, 9, 7, 0, 0, time.UTC)))
			},
		},
		{
			name: "end_time: no value while active",
			s:    Session{ID: "ws-1", Status: StatusActive, StartedAt: t0, EndedAt: at(100)},
			check: func(t *testing.T, c Card) {
				eq(t, "EndTime", c.EndTime, (*time.Time)(nil))
			},
		},
		// first_reply_wait
		{
			name:  "first_reply_wait: no live chat at all",
			s:     session(StatusEnded),
			msgs:  []Message{msg(1, 1, SenderBot, "Botti", "", "hi"), msg(2, 5, SenderVisitor, "Maija", "", "bye")},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, (*int64)(nil)) },
		},
		{
			name: "first_reply_wait: requested but never connected (gave up in the queue)",
			s:    session(StatusEnded, chat("lc-1", 10, -1)),
			msgs: []Message{
				msg(1, 11, SenderVisitor, "Maija", "lc-1", "anyone?"),
				msg(2, 12, SenderSystem, "", "lc-1", "Please wait"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, (*int64)(nil)) },
		},
		{
			name: "first_reply_wait: agent writes first → 0",
			s:    session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20))),
			msgs: []Message{
				msg(1, 25, SenderAgent, "Ann Agent", "lc-1", "Hello, how can I help?"),
				msg(2, 40, SenderVisitor, "Maija", "lc-1", "my VPN"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(0)) },
		},
		{
			name: "first_reply_wait: agent reply with no visitor message → 0",
			s:    session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20))),
			msgs: []Message{msg(1, 25, SenderAgent, "Ann Agent", "lc-1", "Hello?")},
			check: func(t *testing.T, c Card) {
				eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(0))
			},
		},
		{
			name:  "first_reply_wait: no agent reply → no value",
			s:     session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20))),
			msgs:  []Message{msg(1, 25, SenderVisitor, "Maija", "lc-1", "hello?")},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, (*int64)(nil)) },
		},
		{
			name: "first_reply_wait: first chat unanswered, a later one answered → no value",
			s:    session(StatusEnded, chat("lc-1", 10, 20, joined(ann, 20)), chat("lc-2", 100, 110, joined(bob, 110))),
			msgs: []Message{
				msg(1, 25, SenderVisitor, "Maija", "lc-1", "hello?"),
				msg(2, 111, SenderVisitor, "Maija", "lc-2", "hello again"),
				msg(3, 120, SenderAgent, "Bob Builder", "lc-2", "hi"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, (*int64)(nil)) },
		},
		{
			name: "first_reply_wait: the first chat is the first to connect, not the first listed",
			s:    session(StatusEnded, chat("lc-2", 100, 110, joined(bob, 110)), chat("lc-1", 5, -1), chat("lc-3", 10, 20, joined(ann, 20))),
			msgs: []Message{
				msg(1, 21, SenderVisitor, "Maija", "lc-3", "hi"),
				msg(2, 33, SenderAgent, "Ann Agent", "lc-3", "hello"),
				msg(3, 111, SenderVisitor, "Maija", "lc-2", "hi"),
				msg(4, 112, SenderAgent, "Bob Builder", "lc-2", "hello"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(12)) },
		},
		{
			name: "first_reply_wait: visitor messages typed while queued are ignored",
			s:    session(StatusEnded, chat("lc-1", 10, 100, joined(ann, 100))),
			msgs: []Message{
				msg(1, 20, SenderVisitor, "Maija", "lc-1", "hello?"),
				msg(2, 110, SenderVisitor, "Maija", "lc-1", "my VPN is down"),
				msg(3, 155, SenderAgent, "Ann Agent", "lc-1", "Let me check"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(45)) },
		},
		{
			name: "first_reply_wait: bot and system messages never count",
			s:    session(StatusEnded, chat("lc-1", 10, 100, joined(ann, 100))),
			msgs: []Message{
				msg(1, 100, SenderSystem, "", "lc-1", "Ann joined"),
				msg(2, 101, SenderBot, "Botti", "lc-1", "An agent is here"),
				msg(3, 102, "supervisor", "Sam", "lc-1", "observing"),
				msg(4, 110, SenderVisitor, "Maija", "lc-1", "my VPN is down"),
				msg(5, 111, SenderBot, "Botti", "lc-1", "Did you try rebooting?"),
				msg(6, 130, SenderAgent, "Ann Agent", "lc-1", "Let me check"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(20)) },
		},
		{
			name: "first_reply_wait: messages of other live chats or of none are ignored",
			s:    session(StatusEnded, chat("lc-1", 10, 100, joined(ann, 100))),
			msgs: []Message{
				msg(1, 101, SenderAgent, "Ann Agent", "", "stray"),
				msg(2, 102, SenderAgent, "Ann Agent", "lc-9", "stray"),
				msg(3, 110, SenderVisitor, "Maija", "lc-1", "my VPN is down"),
				msg(4, 117, SenderAgent, "Ann Agent", "lc-1", "Let me check"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(7)) },
		},
		{
			name: "first_reply_wait: whole seconds, truncated",
			s:    session(StatusEnded, chat("lc-1", 10, 100, joined(ann, 100))),
			msgs: []Message{
				msg(1, 110.2, SenderVisitor, "Maija", "lc-1", "q"),
				msg(2, 155.1, SenderAgent, "Ann Agent", "lc-1", "a"),
			},
			check: func(t *testing.T, c Card) { eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(44)) },
		},
		// active
		{
			name:  "active while the platform says active",
			s:     session(StatusActive),
			check: func(t *testing.T, c Card) { eq(t, "Active", c.Active, true); eq(t, "Expired", c.Expired, false) },
		},
		{
			name:  "inactive when ended",
			s:     session(StatusEnded),
			check: func(t *testing.T, c Card) { eq(t, "Active", c.Active, false); eq(t, "Expired", c.Expired, false) },
		},
		{
			name: "inactive and expired when older than max_active_age",
			s:    session(StatusActive),
			opt:  func(o *Options) { o.Now = t0.Add(169 * time.Hour) },
			check: func(t *testing.T, c Card) {
				eq(t, "Active", c.Active, false)
				eq(t, "Expired", c.Expired, true)
				eq(t, "EndTime", c.EndTime, (*time.Time)(nil))
			},
		},
		{
			name:  "max_active_age 0 never expires",
			s:     session(StatusActive),
			opt:   func(o *Options) { o.Now = t0.Add(10000 * time.Hour); o.MaxActiveAge = 0 },
			check: func(t *testing.T, c Card) { eq(t, "Active", c.Active, true) },
		},
		{
			name:  "unknown status is treated as active",
			s:     Session{ID: "ws-1", Status: "paused", StartedAt: t0},
			check: func(t *testing.T, c Card) { eq(t, "Active", c.Active, true) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts()
			if tt.opt != nil {
				tt.opt(&o)
			}
			tt.check(t, Aggregate(tt.s, tt.msgs, o))
		})
	}
}

// TestAggregate_WorkedExample is SPEC §5's worked example, field by field.
func TestAggregate_WorkedExample(t *testing.T) {
	s := Session{
		ID: "ws-1", Status: StatusEnded, StartedAt: t0, EndedAt: at(420), Customer: maija,
		LiveChats: []LiveChat{chat("lc-1", 21, 120, joined(ann, 120), joined(bob, 300))},
	}
	s.LiveChats[0].Agents[0].LeftAt = at(300)
	msgs := []Message{
		msg(1, 1, SenderBot, "Botti", "", "Hi, I'm Botti"),
		msg(2, 20, SenderVisitor, "Maija", "", "I need a human"),
		msg(3, 60, SenderVisitor, "Maija", "lc-1", "hello?"),
		msg(4, 130, SenderVisitor, "Maija", "lc-1", "my VPN is down"),
		msg(5, 131, SenderSystem, "", "", "Ann joined"),
		msg(6, 175, SenderAgent, "Ann Agent", "lc-1", "Let me check"),
		msg(7, 360, SenderAgent, "Bob Builder", "lc-1", "Fixed"),
	}
	c := Aggregate(s, msgs, Options{Now: at(600), Location: mustZone(t, "Europe/Helsinki"), MaxActiveAge: 168 * time.Hour})
	eq(t, "MessageCount", c.MessageCount, 7)
	eq(t, "FirstReplyWait", c.FirstReplyWait, seconds(45))
	eq(t, "SupportPerson", c.SupportPerson, person("Bob Builder", "bob@example.com"))
	eq(t, "Members", c.Members, []Identity{idMaija, idAnn, idBob})
	eq(t, "StartTime", c.StartTime, t0)
	eq(t, "EndTime", c.EndTime, ptr(at(420)))
	eq(t, "Active", c.Active, false)
	eq(t, "first log line", strings.Split(c.ChatLog, "\n")[0], "2024-06-03 12:00:01 Botti (bot): Hi, I'm Botti")
}

func TestAggregate_DoesNotModifyInput(t *testing.T) {
	msgs := []Message{msg(2, 2, SenderBot, "b", "", "2"), msg(1, 1, SenderBot, "a", "", "1")}
	Aggregate(session(StatusActive), msgs, opts())
	if msgs[0].Seq != 2 {
		t.Error("Aggregate reordered the caller's slice")
	}
}

func TestRenderChatLog_Sanitises(t *testing.T) {
	msgs := []Message{{
		Seq: 1, SentAt: t0,
		Sender: Sender{Type: SenderAgent, Name: "Evil\nName\u2028x"},
		Text:   "bell\a esc\x1b[31m bad\xffutf8 tab\tkept\u2029next\u0085last",
	}}
	got := RenderChatLog(msgs, time.UTC, 0)
	want := "2024-06-03 09:00:00 Evil Name x (agent): bell esc[31m bad\uFFFDutf8 tab\tkept\n  next\n  last"
	eq(t, "ChatLog", got, want)
}

func TestRenderChatLog_MarkerAlone(t *testing.T) {
	msgs := []Message{msg(1, 1, SenderBot, "Botti", "", strings.Repeat("x", 100))}
	eq(t, "ChatLog", RenderChatLog(msgs, time.UTC, 30), "[… 1 more messages]")
}

func TestNormalize(t *testing.T) {
	in := []Message{{Seq: 3, Text: "c"}, {Seq: 1, Text: "a"}, {Seq: 3, Text: "c2"}, {Seq: 2, Text: "b"}}
	var got []string
	for _, m := range Normalize(in) {
		got = append(got, m.Text)
	}
	eq(t, "texts", got, []string{"a", "b", "c"})
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %s, want %s", what, show(got), show(want))
	}
}

func ptr[T any](v T) *T { return &v }

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// show prints a value with its pointers followed, so that failures read well.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "<no value>"
		}
		return "&" + show(rv.Elem().Interface())
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%+v", v)
}
