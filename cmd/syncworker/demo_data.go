package main

import (
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// demoCase is one transcript of the demo.
type demoCase struct {
	session  aggregate.Session
	messages []aggregate.Message
}

var (
	demoAnn   = aggregate.Agent{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com"}
	demoBob   = aggregate.Agent{ID: "a-2", Name: "Bob Builder", Email: "bob@example.com"}
	demoCecil = aggregate.Agent{ID: "a-3", Name: "Cecil Support", Email: "cecil@example.com"}
)

// demoCases returns the demo's sessions, all started within the last
// hours before now: bot only, gave up in the queue, a transfer, two live
// chats, and one still going on.
func demoCases(now time.Time) []demoCase {
	base := now.UTC().Truncate(time.Minute).Add(-3 * time.Hour)
	at := func(min, sec int) time.Time {
		return base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	joined := func(a aggregate.Agent, t time.Time) aggregate.Agent { a.JoinedAt = t; return a }
	var seq int64
	m := func(t time.Time, typ aggregate.SenderType, name, liveChat, text string) aggregate.Message {
		seq++
		return aggregate.Message{Seq: seq, SentAt: t, Sender: aggregate.Sender{Type: typ, Name: name}, LiveChatID: liveChat, Text: text}
	}
	customer := func(name, email string) aggregate.Customer {
		return aggregate.Customer{ID: "u-" + email, Name: name, Email: email}
	}
	const bot, visitor, agent, system = aggregate.SenderBot, aggregate.SenderVisitor, aggregate.SenderAgent, aggregate.SenderSystem
	var cases []demoCase
	add := func(s aggregate.Session, msgs ...aggregate.Message) {
		cases = append(cases, demoCase{s, msgs})
		seq = 0
	}

	add(aggregate.Session{ID: "ws-demo-1", Status: aggregate.StatusEnded, StartedAt: at(0, 0), EndedAt: at(2, 0),
		Customer: customer("Maija Meikäläinen", "maija@example.com")},
		m(at(0, 1), bot, "Botti", "", "Hi, I'm Botti. How can I help?"),
		m(at(0, 20), visitor, "Maija", "", "How do I reset my password?"),
		m(at(0, 22), bot, "Botti", "", "Go to https://id.example.com/reset and follow the steps."),
		m(at(1, 30), visitor, "Maija", "", "Thanks, that worked!"))

	add(aggregate.Session{ID: "ws-demo-2", Status: aggregate.StatusEnded, StartedAt: at(10, 0), EndedAt: at(19, 0),
		Customer:  customer("Pekka Virtanen", "pekka@example.com"),
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: at(10, 40), EndedAt: at(19, 0)}}},
		m(at(10, 1), bot, "Botti", "", "Hi, I'm Botti. How can I help?"),
		m(at(10, 30), visitor, "Pekka", "", "printer on floor 3 is jammed, I need a person"),
		m(at(10, 41), system, "", "lc-1", "You are number 4 in the queue."),
		m(at(15, 0), visitor, "Pekka", "lc-1", "still waiting..."),
		m(at(19, 0), system, "", "lc-1", "The customer left the queue."))

	add(aggregate.Session{ID: "ws-demo-3", Status: aggregate.StatusEnded, StartedAt: at(30, 0), EndedAt: at(37, 0),
		Customer: customer("Liisa Laine", "liisa@example.com"),
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: at(30, 21), ConnectedAt: at(32, 0), EndedAt: at(37, 0),
			Agents: []aggregate.Agent{joined(demoAnn, at(32, 0)), joined(demoBob, at(35, 0))}}}},
		m(at(30, 1), bot, "Botti", "", "Hi, I'm Botti. How can I help?"),
		m(at(30, 20), visitor, "Liisa", "", "I need a human"),
		m(at(31, 0), visitor, "Liisa", "lc-1", "hello?"),
		m(at(32, 10), visitor, "Liisa", "lc-1", "my VPN is down"),
		m(at(32, 11), system, "", "lc-1", "Ann Agent joined"),
		m(at(32, 55), agent, "Ann Agent", "lc-1", "Let me check.\nWhich office are you in?"),
		m(at(33, 20), visitor, "Liisa", "lc-1", "Helsinki"),
		m(at(35, 0), system, "", "lc-1", "Ann Agent transferred the chat to Bob Builder"),
		m(at(36, 0), agent, "Bob Builder", "lc-1", "Fixed: the Helsinki gateway was restarted."))

	add(aggregate.Session{ID: "ws-demo-4", Status: aggregate.StatusEnded, StartedAt: at(60, 0), EndedAt: at(95, 0),
		Customer: customer("Jussi Järvinen", "jussi@example.com"),
		LiveChats: []aggregate.LiveChat{
			{ID: "lc-1", RequestedAt: at(60, 30), ConnectedAt: at(61, 0), EndedAt: at(70, 0),
				Agents: []aggregate.Agent{joined(demoAnn, at(61, 0))}},
			{ID: "lc-2", RequestedAt: at(90, 0), ConnectedAt: at(91, 0), EndedAt: at(95, 0),
				Agents: []aggregate.Agent{joined(demoCecil, at(91, 0))}},
		}},
		m(at(60, 1), bot, "Botti", "", "Hi, I'm Botti. How can I help?"),
		m(at(60, 20), visitor, "Jussi", "", "new laptop for a new hire"),
		m(at(61, 5), visitor, "Jussi", "lc-1", "starting Monday"),
		m(at(61, 35), agent, "Ann Agent", "lc-1", "I'll order one; you'll get a ticket."),
		m(at(89, 50), visitor, "Jussi", "", "one more thing: a monitor too"),
		m(at(91, 10), agent, "Cecil Support", "lc-2", "Added a monitor to the order."))

	add(aggregate.Session{ID: "ws-demo-5", Status: aggregate.StatusActive, StartedAt: at(170, 0),
		Customer: customer("Aino Aalto", "aino@example.com"),
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: at(170, 40), ConnectedAt: at(171, 0),
			Agents: []aggregate.Agent{joined(demoBob, at(171, 0))}}}},
		m(at(170, 1), bot, "Botti", "", "Hi, I'm Botti. How can I help?"),
		m(at(170, 30), visitor, "Aino", "", "Teams keeps crashing, I need help"),
		m(at(171, 5), visitor, "Aino", "lc-1", "Teams crashes whenever I share my screen"),
		m(at(171, 37), agent, "Bob Builder", "lc-1", "Hi Aino, which version do you have?"),
		m(at(172, 0), visitor, "Aino", "lc-1", "the one from the software centre"))
	return cases
}
