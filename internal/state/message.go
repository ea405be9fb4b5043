package state

import (
	"encoding/json"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// storedMessage is the state's own encoding of a message, independent of
// any chat platform's wire format and of the domain type. Its field names
// are those state files have held since schema 1, so older files read as
// they are.
type storedMessage struct {
	Seq        int64        `json:"seq"`
	ID         string       `json:"id,omitempty"`
	SentAt     time.Time    `json:"sent_at"`
	Sender     storedSender `json:"sender"`
	LiveChatID string       `json:"live_chat_id,omitempty"`
	Text       string       `json:"text"`
}

type storedSender struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func encodeMessage(m aggregate.Message) ([]byte, error) {
	return json.Marshal(storedMessage{Seq: m.Seq, ID: m.ID, SentAt: m.SentAt, LiveChatID: m.LiveChatID, Text: m.Text,
		Sender: storedSender{Type: string(m.Sender.Type), ID: m.Sender.ID, Name: m.Sender.Name, Email: m.Sender.Email}})
}

func decodeMessage(b []byte) (aggregate.Message, error) {
	var m storedMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return aggregate.Message{}, err
	}
	return aggregate.Message{Seq: m.Seq, ID: m.ID, SentAt: m.SentAt, LiveChatID: m.LiveChatID, Text: m.Text,
		Sender: aggregate.Sender{Type: aggregate.SenderType(m.Sender.Type), ID: m.Sender.ID, Name: m.Sender.Name,
			Email: m.Sender.Email}}, nil
}
