package ccai

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"context"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// The transcript file <chat_id>.json the export storage lands (SPEC
// §4.3.3): {"comm_type":"chat","comm_id":208,"assigned_at":…,"entries":[
// {"timestamp":<unix s>,"type":"text"|"noti"|…,"body":{"content":"…"},
// "role":"end_user"|…,"user_data":{"name":"…"}}]}.

type wireTranscript struct {
	CommType   string          `json:"comm_type"`
	CommID     json.RawMessage `json:"comm_id"`
	AssignedAt json.RawMessage `json:"assigned_at"`
	Entries    []wireEntry     `json:"entries"`
}

type wireEntry struct {
	Timestamp json.RawMessage `json:"timestamp"`
	Type      string          `json:"type"`
	Body      struct {
		Content string `json:"content"`
	} `json:"body"`
	Role     string `json:"role"`
	UserData struct {
		Name string `json:"name"`
	} `json:"user_data"`
}

// transcript is a transcript file read whole.
type transcript struct {
	messages     []aggregate.Message
	customerName string
	assignedAt   time.Time
}

// roles maps a transcript role to a sender type; a role not listed is
// kept as it is, which the aggregation counts and shows as system.
var roles = map[string]aggregate.SenderType{
	"end_user":           aggregate.SenderVisitor,
	"agent":              aggregate.SenderAgent,
	"manager":            aggregate.SenderAgent,
	"external_agent":     aggregate.SenderAgent,
	"virtual_agent":      aggregate.SenderBot,
	"task_virtual_agent": aggregate.SenderBot,
	"system":             aggregate.SenderSystem,
}

// maxEntryText bounds one entry's text.
const maxEntryText = 1 << 20

// errNoTranscript is a transcript that is not there yet: no file, or one
// that does not parse (still being written).
var errNoTranscript = errors.New("no transcript yet")

// readTranscript reads <dir>/<id>.json whole. A missing file, and one that
// does not parse as a whole (half written), is errNoTranscript; one that
// parses but cannot be right is source.ErrInvalid.
func (c *Client) readTranscript(id string) (*transcript, error) {
	f, err := os.Open(filepath.Join(c.dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoTranscript
	}
	if err != nil {
		return nil, fmt.Errorf("%w: transcript of chat %s: %w", source.ErrUnavailable, id, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, c.maxTranscript+1))
	if err != nil {
		return nil, fmt.Errorf("%w: transcript of chat %s: %w", source.ErrUnavailable, id, err)
	}
	if int64(len(b)) > c.maxTranscript {
		return nil, source.Invalidf("transcript of chat %s is over %d bytes", id, c.maxTranscript)
	}
	var w wireTranscript
	if !json.Valid(b) || json.Unmarshal(b, &w) != nil || w.Entries == nil {
		return nil, fmt.Errorf("%w: %s.json does not parse (yet)", errNoTranscript, id)
	}
	if got, err := chatID(w.CommID); err != nil || got != id {
		return nil, source.Invalidf("%s.json is the transcript of comm %s", id, clip(string(w.CommID)))
	}
	if w.CommType != "" && w.CommType != "chat" {
		return nil, source.Invalidf("%s.json is a %s transcript, not a chat's", id, clip(w.CommType))
	}
	return decodeTranscript(id, &w)
}

func decodeTranscript(id string, w *wireTranscript) (*transcript, error) {
	tr := &transcript{}
	var err error
	if tr.assignedAt, err = anyTime(w.AssignedAt); err != nil {
		return nil, fmt.Errorf("%s.json assigned_at: %w", id, err)
	}
	for i, e := range w.Entries {
		if e.Type != "text" && e.Type != "noti" {
			continue
		}
		at, err := unixTime(e.Timestamp)
		if err != nil || at.IsZero() {
			return nil, source.Invalidf("%s.json entry %d: timestamp %s", id, i, clip(string(e.Timestamp)))
		}
		if len(e.Body.Content) > maxEntryText || !utf8.ValidString(e.Body.Content) {
			return nil, source.Invalidf("%s.json entry %d: text too long or not UTF-8", id, i)
		}
		typ, ok := roles[e.Role]
		if !ok {
			typ = aggregate.SenderType(source.Clip(e.Role, 40))
		}
		name := source.Clip(e.UserData.Name, 200)
		if typ == aggregate.SenderVisitor && tr.customerName == "" {
			tr.customerName = name
		}
		tr.messages = append(tr.messages, aggregate.Message{ID: "e" + strconv.Itoa(i), SentAt: at, LiveChatID: id,
			Sender: aggregate.Sender{Type: typ, Name: name}, Text: e.Body.Content})
	}
	// The file's order is the platform's; equal seconds keep it.
	slices.SortStableFunc(tr.messages, func(a, b aggregate.Message) int { return a.SentAt.Compare(b.SentAt) })
	for i := range tr.messages {
		tr.messages[i].Seq = int64(i + 1)
	}
	return tr, nil
}

// anyTime reads a time given as Unix seconds or as RFC 3339; absent or
// null is zero.
func anyTime(raw json.RawMessage) (time.Time, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == `""` {
		return time.Time{}, nil
	}
	if strings.HasPrefix(s, `"`) && strings.ContainsAny(s, "T-") {
		str := strings.Trim(s, `"`)
		return optionalTime(&str)
	}
	return unixTime(raw)
}

// cursorRead is the cursor once the transcript was read.
const cursorRead = "t"

// Messages implements source.Source: nothing until the transcript file
// parses, then all of it at once; after that, nothing more (a later
// transcript is ignored).
func (c *Client) Messages(_ context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	if cursor == cursorRead {
		return nil, cursor, nil
	}
	if cursor != "" {
		return nil, "", source.Invalidf("chat %s: cursor %q is not this adapter's", id, clip(cursor))
	}
	if _, err := chatID([]byte(id)); err != nil {
		return nil, "", err
	}
	tr, err := c.readTranscript(id)
	switch {
	case errors.Is(err, errNoTranscript):
		return nil, "", nil
	case err != nil:
		return nil, "", err
	}
	return tr.messages, cursorRead, nil
}
