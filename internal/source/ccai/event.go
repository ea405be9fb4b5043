package ccai

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// The QM chat session event of CCAI Platform (seed 003, SPEC §4.3.3), as
// it arrives: either {"type":"ChatState","item":{…}} or the bare item.

type wireEnvelope struct {
	Type *string         `json:"type"`
	Item json.RawMessage `json:"item"`
}

type wireEvent struct {
	ChatID       json.RawMessage   `json:"chat_id"`
	State        *string           `json:"state"`
	Timestamp    json.RawMessage   `json:"timestamp"`
	ConnectedAt  *string           `json:"connected_at"`
	EndsAt       *string           `json:"ends_at"`
	Participants []wireParticipant `json:"participants"`
}

type wireParticipant struct {
	Type  string `json:"type"`
	State string `json:"state"`
	DN    string `json:"dn"`
	Name  string `json:"name"`
}

// event is one chat event after validation: what the adapter applies.
type event struct {
	ChatID string
	State  string
	// At is the event time: item.timestamp, else when it was received.
	At time.Time
	// ConnectedAt and EndsAt are zero when the event had them empty or
	// null.
	ConnectedAt, EndsAt time.Time
	Participants        []wireParticipant
}

// Participant types and states the adapter reads.
const (
	partExternal     = "external"
	partAgent        = "agent"
	partVirtualAgent = "virtual_agent"
)

// maxParticipants bounds the participants of one event.
const maxParticipants = 100

// errIgnored marks an event of another type than ChatState: it is
// answered 202 and not stored.
var errIgnored = fmt.Errorf("not a chat state event")

// decodeEvent validates body, one event as posted, and returns the chat
// event and the item's compact JSON, which is what is stored. An event of
// another type is errIgnored; anything malformed is source.ErrInvalid.
func decodeEvent(body []byte) (event, []byte, error) {
	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return event{}, nil, source.Invalidf("not a JSON object: %v", clipErr(err))
	}
	item := json.RawMessage(body)
	switch {
	case env.Type != nil && *env.Type != "ChatState":
		return event{}, nil, errIgnored
	case env.Item != nil:
		item = env.Item
	case env.Type != nil:
		return event{}, nil, source.Invalidf("a ChatState event without an item")
	}
	ev, err := parseItem(item)
	if err != nil {
		return event{}, nil, err
	}
	return ev, canonical(ev), nil
}

// storedEvent is the adapter's encoding of an event in the event store:
// the fields it reads, in a fixed order, so that the same event sent as an
// envelope or bare, with its fields in any order, is stored once.
type storedEvent struct {
	ChatID       string            `json:"chat_id"`
	State        string            `json:"state"`
	Timestamp    string            `json:"timestamp,omitempty"`
	ConnectedAt  string            `json:"connected_at,omitempty"`
	EndsAt       string            `json:"ends_at,omitempty"`
	Participants []wireParticipant `json:"participants"`
}

func canonical(ev event) []byte {
	st := storedEvent{ChatID: ev.ChatID, State: ev.State, Participants: ev.Participants}
	if !ev.At.IsZero() {
		st.Timestamp = strconv.FormatFloat(float64(ev.At.UnixMicro())/1e6, 'f', -1, 64)
	}
	if !ev.ConnectedAt.IsZero() {
		st.ConnectedAt = ev.ConnectedAt.Format(time.RFC3339Nano)
	}
	if !ev.EndsAt.IsZero() {
		st.EndsAt = ev.EndsAt.Format(time.RFC3339Nano)
	}
	if st.Participants == nil {
		st.Participants = []wireParticipant{}
	}
	b, _ := json.Marshal(st)
	return b
}

// parseItem reads one stored or received item. Its event time is zero when
// it carries no timestamp.
func parseItem(item []byte) (event, error) {
	var w wireEvent
	if err := json.Unmarshal(item, &w); err != nil {
		return event{}, source.Invalidf("item: %v", clipErr(err))
	}
	var ev event
	var err error
	if ev.ChatID, err = chatID(w.ChatID); err != nil {
		return event{}, err
	}
	if w.State == nil || *w.State == "" || len(*w.State) > 64 {
		return event{}, source.Invalidf("chat %s: state missing or implausible", ev.ChatID)
	}
	ev.State = *w.State
	if ev.At, err = unixTime(w.Timestamp); err != nil {
		return event{}, fmt.Errorf("chat %s: timestamp: %w", ev.ChatID, err)
	}
	if ev.ConnectedAt, err = optionalTime(w.ConnectedAt); err != nil {
		return event{}, fmt.Errorf("chat %s: connected_at: %w", ev.ChatID, err)
	}
	if ev.EndsAt, err = optionalTime(w.EndsAt); err != nil {
		return event{}, fmt.Errorf("chat %s: ends_at: %w", ev.ChatID, err)
	}
	if len(w.Participants) > maxParticipants {
		return event{}, source.Invalidf("chat %s: %d participants", ev.ChatID, len(w.Participants))
	}
	for _, p := range w.Participants {
		if len(p.DN) > 200 || len(p.Name) > 500 || len(p.Type) > 64 || len(p.State) > 64 {
			return event{}, source.Invalidf("chat %s: a participant's fields are implausibly long", ev.ChatID)
		}
	}
	ev.Participants = w.Participants
	return ev, nil
}

// chatID reads chat_id: a positive integer, as a number or a string.
func chatID(raw json.RawMessage) (string, error) {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || n == 0 {
		return "", source.Invalidf("chat_id %s is not a positive integer", clip(string(raw)))
	}
	return strconv.FormatUint(n, 10), nil
}

// unixTime reads a Unix time in seconds (fractions allowed), as a number
// or a numeric string; absent or null is the zero time.
func unixTime(raw json.RawMessage) (time.Time, error) {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	// 2001 to 2286: a time in milliseconds or a small number is a mistake.
	if err != nil || math.IsNaN(f) || f < 1e9 || f >= 1e10 {
		return time.Time{}, source.Invalidf("%s is not a Unix time in seconds", clip(string(raw)))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

// optionalTime reads an RFC 3339 time; null and "" are the zero time.
func optionalTime(s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, source.Invalidf("%s is not an RFC 3339 time", clip(*s))
	}
	return t, nil
}

// digest identifies an event by its content: the same event posted twice
// is stored once.
func digest(item []byte) string {
	sum := sha256.Sum256(item)
	return hex.EncodeToString(sum[:])
}

func clip(s string) string { return source.Clip(s, 60) }

func clipErr(err error) string { return clip(err.Error()) }
