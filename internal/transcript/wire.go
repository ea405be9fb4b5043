package transcript

import (
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// The case format. A time that is absent, null or "" is none.

type wireSession struct {
	ID        string           `json:"id"`
	Status    aggregate.Status `json:"status"`
	StartedAt wireTime         `json:"started_at"`
	EndedAt   wireTime         `json:"ended_at"`
	UpdatedAt wireTime         `json:"updated_at"`
	Customer  wireCustomer     `json:"customer"`
	LiveChats []wireLiveChat   `json:"live_chats"`
}

type wireCustomer struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type wireLiveChat struct {
	ID          string      `json:"id"`
	RequestedAt wireTime    `json:"requested_at"`
	ConnectedAt wireTime    `json:"connected_at"`
	EndedAt     wireTime    `json:"ended_at"`
	Agents      []wireAgent `json:"agents"`
}

type wireAgent struct {
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name,omitempty"`
	Email    string   `json:"email,omitempty"`
	JoinedAt wireTime `json:"joined_at"`
	LeftAt   wireTime `json:"left_at"`
}

type wireMessage struct {
	Seq        int64      `json:"seq"`
	ID         string     `json:"id,omitempty"`
	SentAt     wireTime   `json:"sent_at"`
	Sender     wireSender `json:"sender"`
	LiveChatID string     `json:"live_chat_id,omitempty"`
	Text       string     `json:"text"`
}

type wireSender struct {
	Type  aggregate.SenderType `json:"type"`
	ID    string               `json:"id,omitempty"`
	Name  string               `json:"name,omitempty"`
	Email string               `json:"email,omitempty"`
}

// wireTime is an RFC 3339 time that may be null or "".
type wireTime struct{ time.Time }

func (t *wireTime) UnmarshalJSON(b []byte) error {
	if s := string(b); s == "null" || s == `""` {
		t.Time = time.Time{}
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}

func (t wireTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return t.Time.MarshalJSON()
}

func (w wireSession) domain() aggregate.Session {
	s := aggregate.Session{ID: w.ID, Status: w.Status, StartedAt: w.StartedAt.Time, EndedAt: w.EndedAt.Time,
		UpdatedAt: w.UpdatedAt.Time,
		Customer:  aggregate.Customer{ID: w.Customer.ID, Name: w.Customer.Name, Email: w.Customer.Email}}
	for _, lc := range w.LiveChats {
		d := aggregate.LiveChat{ID: lc.ID, RequestedAt: lc.RequestedAt.Time, ConnectedAt: lc.ConnectedAt.Time,
			EndedAt: lc.EndedAt.Time}
		for _, a := range lc.Agents {
			d.Agents = append(d.Agents, aggregate.Agent{ID: a.ID, Name: a.Name, Email: a.Email,
				JoinedAt: a.JoinedAt.Time, LeftAt: a.LeftAt.Time})
		}
		s.LiveChats = append(s.LiveChats, d)
	}
	return s
}

func (w wireMessage) domain() aggregate.Message {
	return aggregate.Message{Seq: w.Seq, ID: w.ID, SentAt: w.SentAt.Time, LiveChatID: w.LiveChatID, Text: w.Text,
		Sender: aggregate.Sender{Type: w.Sender.Type, ID: w.Sender.ID, Name: w.Sender.Name, Email: w.Sender.Email}}
}

func fromSession(s aggregate.Session) wireSession {
	w := wireSession{ID: s.ID, Status: s.Status, StartedAt: wireTime{s.StartedAt}, EndedAt: wireTime{s.EndedAt},
		UpdatedAt: wireTime{s.UpdatedAt},
		Customer:  wireCustomer{ID: s.Customer.ID, Name: s.Customer.Name, Email: s.Customer.Email},
		LiveChats: []wireLiveChat{}}
	for _, lc := range s.LiveChats {
		d := wireLiveChat{ID: lc.ID, RequestedAt: wireTime{lc.RequestedAt}, ConnectedAt: wireTime{lc.ConnectedAt},
			EndedAt: wireTime{lc.EndedAt}, Agents: []wireAgent{}}
		for _, a := range lc.Agents {
			d.Agents = append(d.Agents, wireAgent{ID: a.ID, Name: a.Name, Email: a.Email,
				JoinedAt: wireTime{a.JoinedAt}, LeftAt: wireTime{a.LeftAt}})
		}
		w.LiveChats = append(w.LiveChats, d)
	}
	return w
}

func fromMessage(m aggregate.Message) wireMessage {
	return wireMessage{Seq: m.Seq, ID: m.ID, SentAt: wireTime{m.SentAt}, LiveChatID: m.LiveChatID, Text: m.Text,
		Sender: wireSender{Type: m.Sender.Type, ID: m.Sender.ID, Name: m.Sender.Name, Email: m.Sender.Email}}
}
