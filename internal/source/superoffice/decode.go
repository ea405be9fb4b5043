package superoffice

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// maxFuture tolerates clock skew between SuperOffice and us.
const maxFuture = 24 * time.Hour

// limits are the checks' parameters: the time to judge "future" by and the
// caps.
type limits struct {
	now         time.Time
	maxText     int
	maxMessages int
}

func (c *Client) limits() limits {
	return limits{now: c.now(), maxText: c.maxText, maxMessages: DefaultMaxMessages}
}

// checkTime checks that t, when set, is not in the future; the decoder
// already made implausibly old values "none".
func (l limits) checkTime(field string, t time.Time) error {
	if !t.IsZero() && t.After(l.now.Add(maxFuture)) {
		return fmt.Errorf("%s %s is in the future", field, t.Format(time.RFC3339))
	}
	return nil
}

// decodeSession decodes and checks a ChatSessionEntity, which must be
// session id's.
func decodeSession(body []byte, id int64, l limits) (wireSession, error) {
	var w wireSession
	if err := unmarshal(body, '{', &w); err != nil {
		return w, nameField(err, body, sessionFields)
	}
	switch {
	case int64(w.ChatSessionID) != id:
		return w, source.Invalidf("the answer is about ChatSessionId %d", w.ChatSessionID)
	case !w.Status.set:
		return w, source.Invalidf("Status missing")
	case w.WhenRequested.IsZero():
		return w, source.Invalidf("WhenRequested missing: the session has no start time")
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"WhenRequested", w.WhenRequested.Time}, {"WhenStarted", w.WhenStarted.Time}, {"WhenEnded", w.WhenEnded.Time},
		{"WhenIdle", w.WhenIdle.Time}} {
		if err := l.checkTime(f.name, f.t); err != nil {
			return w, source.Invalidf("%v", err)
		}
	}
	return w, nil
}

// decodeMessages decodes and checks the answer of GET Messages?after= for
// session id: every message must come after after (SuperOffice's cursor)
// and carry an id and a WhenPosted; they are returned sorted by
// ChatMessageId. Texts that are not valid UTF-8 are cleaned.
func decodeMessages(body []byte, id, after int64, l limits) ([]wireMessage, error) {
	var msgs []wireMessage
	if err := unmarshal(body, '[', &msgs); err != nil {
		return nil, nameElementField(err, body, messageFields)
	}
	if len(msgs) > l.maxMessages {
		return nil, source.Invalidf("%d messages in one answer, more than %d", len(msgs), l.maxMessages)
	}
	for i := range msgs {
		if err := l.checkMessage(&msgs[i], id, after); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(msgs, func(a, b wireMessage) int { return cmp.Compare(a.ChatMessageID, b.ChatMessageID) })
	for i := 1; i < len(msgs); i++ {
		if msgs[i].ChatMessageID == msgs[i-1].ChatMessageID {
			return nil, source.Invalidf("ChatMessageId %d appears twice in one answer", msgs[i].ChatMessageID)
		}
	}
	return msgs, nil
}

func (l limits) checkMessage(m *wireMessage, id, after int64) error {
	mid := int64(m.ChatMessageID)
	switch {
	case mid <= 0:
		return source.Invalidf("a message has no ChatMessageId")
	case mid <= after:
		return source.Invalidf("Messages?after=%d answered with ChatMessageId %d, which was already had: "+
			"SuperOffice did not honour after", after, mid)
	case m.ChatSessionID != 0 && int64(m.ChatSessionID) != id:
		return source.Invalidf("message %d: ChatSessionId is %d", mid, m.ChatSessionID)
	case m.WhenPosted.IsZero():
		return source.Invalidf("message %d: WhenPosted missing", mid)
	case len(m.Message) > l.maxText:
		return source.Invalidf("message %d: Message of %d bytes is over the cap of %d", mid, len(m.Message), l.maxText)
	}
	if err := l.checkTime("WhenPosted", m.WhenPosted.Time); err != nil {
		return source.Invalidf("message %d: %v", mid, err)
	}
	// encoding/json already replaces invalid UTF-8; this keeps the promise
	// should the decoder ever change.
	m.Message = strings.ToValidUTF8(m.Message, "\uFFFD")
	m.Author = strings.ToValidUTF8(m.Author, "\uFFFD")
	return nil
}

// listed is one archive row as the adapter uses it.
type listed struct {
	id            int64
	status        enum
	whenRequested time.Time
	updated       time.Time
}

// decodeListPage decodes one page of the ChatSession archive. Only a row's
// id must be sound: a status or date that does not read is left zero, so
// that one garbled row cannot stop the listing, and with it every pass. A
// zero updatedDate reads as "changed", so the session is fetched, and the
// fetch reports what is wrong, for that session alone.
func decodeListPage(body []byte) ([]listed, string, error) {
	var p odataPage
	if err := unmarshal(body, '{', &p); err != nil {
		return nil, "", err
	}
	out := make([]listed, 0, len(p.Value))
	for i, raw := range p.Value {
		r, err := decodeRow(raw)
		if err != nil {
			return nil, "", source.Invalidf("value[%d]: %v", i, err)
		}
		out = append(out, r)
	}
	return out, p.NextLink, nil
}

func decodeRow(raw json.RawMessage) (listed, error) {
	var r listedRow
	if err := json.Unmarshal(raw, &r); err != nil {
		var idOnly struct {
			PrimaryKey    flexInt `json:"PrimaryKey"`
			ChatSessionID flexInt `json:"chatSessionId"`
		}
		if json.Unmarshal(raw, &idOnly) != nil {
			return listed{}, fmt.Errorf("malformed row: %s", source.Clip(err.Error(), maxMessageLen))
		}
		r = listedRow{PrimaryKey: idOnly.PrimaryKey, ChatSessionID: idOnly.ChatSessionID}
	}
	id := int64(cmp.Or(r.ChatSessionID, r.PrimaryKey))
	if id <= 0 || id > 1<<31-1 {
		return listed{}, fmt.Errorf("chatSessionId %d is not a ChatSessionId", id)
	}
	return listed{id: id, status: r.Status, whenRequested: r.WhenRequested.Time, updated: r.UpdatedDate.Time}, nil
}

// unmarshal decodes a JSON object (open '{') or array (open '[') into v;
// unknown members are ignored. Anything else at the top, null included,
// is an error.
func unmarshal(body []byte, open byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != open {
		what := map[byte]string{'{': "an object", '[': "an array"}[open]
		return source.Invalidf("the body is not a JSON %s", what)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return source.Invalidf("malformed JSON: %s", source.Clip(err.Error(), maxMessageLen))
	}
	return nil
}

// The members whose own decoders may refuse a value, by the type that
// reads them: on a malformed body, nameField finds the member at fault.
var (
	sessionFields = map[string]func() any{
		"ChatSessionId": func() any { return new(flexInt) }, "Status": func() any { return new(enum) },
		"WhenRequested": func() any { return new(wireTime) }, "WhenStarted": func() any { return new(wireTime) },
		"WhenEnded": func() any { return new(wireTime) }, "WhenIdle": func() any { return new(wireTime) },
		"User": func() any { return new(*wireAssociate) }, "TransferTo": func() any { return new(*wireAssociate) },
	}
	messageFields = map[string]func() any{
		"ChatMessageId": func() any { return new(flexInt) }, "ChatSessionId": func() any { return new(flexInt) },
		"Type": func() any { return new(enum) }, "SpecialType": func() any { return new(enum) },
		"WhenPosted": func() any { return new(wireTime) }, "Message": func() any { return new(string) },
		"Author": func() any { return new(string) }, "SpecialParam": func() any { return new(string) },
	}
)

// nameField adds to err the member of the JSON object body that does not
// decode, when it can tell which.
func nameField(err error, body []byte, fields map[string]func() any) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if raw, ok := obj[k]; ok {
			if ferr := json.Unmarshal(raw, fields[k]()); ferr != nil {
				return source.Invalidf("%s: %s", k, source.Clip(ferr.Error(), maxMessageLen))
			}
		}
	}
	return err
}

// nameElementField is nameField for a JSON array of objects: it names the
// element too.
func nameElementField(err error, body []byte, fields map[string]func() any) error {
	var elems []json.RawMessage
	if json.Unmarshal(body, &elems) != nil {
		return err
	}
	for i, raw := range elems {
		if named := nameField(nil, raw, fields); named != nil {
			var id struct {
				ChatMessageID json.RawMessage `json:"ChatMessageId"`
			}
			_ = json.Unmarshal(raw, &id)
			return fmt.Errorf("message [%d] (ChatMessageId %s): %w", i, source.Clip(string(id.ChatMessageID), 20), named)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return source.Invalidf("message [%d] is not a JSON object", i)
		}
	}
	return err
}
