package generic

import (
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// The wire format of SPEC §4.1. A null time decodes as the zero time.

type wireSession struct {
	ID        string           `json:"id"`
	Status    aggregate.Status `json:"status"`
	StartedAt time.Time        `json:"started_at"`
	EndedAt   time.Time        `json:"ended_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	Customer  struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	LiveChats []wireLiveChat `json:"live_chats"`
}

type wireLiveChat struct {
	ID          string    `json:"id"`
	RequestedAt time.Time `json:"requested_at"`
	ConnectedAt time.Time `json:"connected_at"`
	EndedAt     time.Time `json:"ended_at"`
	Agents      []struct {
		ID       string    `json:"id"`
		Name     string    `json:"name"`
		Email    string    `json:"email"`
		JoinedAt time.Time `json:"joined_at"`
		LeftAt   time.Time `json:"left_at"`
	} `json:"agents"`
}

type wireMessage struct {
	Seq    int64     `json:"seq"`
	ID     string    `json:"id"`
	SentAt time.Time `json:"sent_at"`
	Sender struct {
		Type  aggregate.SenderType `json:"type"`
		ID    string               `json:"id"`
		Name  string               `json:"name"`
		Email string               `json:"email"`
	} `json:"sender"`
	LiveChatID string `json:"live_chat_id"`
	Text       string `json:"text"`
}

func (w *wireSession) domain() aggregate.Session {
	s := aggregate.Session{ID: w.ID, Status: w.Status, StartedAt: w.StartedAt, EndedAt: w.EndedAt,
		UpdatedAt: w.UpdatedAt,
		Customer:  aggregate.Customer{ID: w.Customer.ID, Name: w.Customer.Name, Email: w.Customer.Email},
		LiveChats: make([]aggregate.LiveChat, 0, len(w.LiveChats))}
	for _, lc := range w.LiveChats {
		d := aggregate.LiveChat{ID: lc.ID, RequestedAt: lc.RequestedAt, ConnectedAt: lc.ConnectedAt, EndedAt: lc.EndedAt,
			Agents: make([]aggregate.Agent, 0, len(lc.Agents))}
		for _, a := range lc.Agents {
			d.Agents = append(d.Agents, aggregate.Agent{ID: a.ID, Name: a.Name, Email: a.Email,
				JoinedAt: a.JoinedAt, LeftAt: a.LeftAt})
		}
		s.LiveChats = append(s.LiveChats, d)
	}
	return s
}

func (w *wireMessage) domain() aggregate.Message {
	return aggregate.Message{Seq: w.Seq, ID: w.ID, SentAt: w.SentAt, LiveChatID: w.LiveChatID, Text: w.Text,
		Sender: aggregate.Sender{Type: w.Sender.Type, ID: w.Sender.ID, Name: w.Sender.Name, Email: w.Sender.Email}}
}
