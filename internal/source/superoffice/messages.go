package superoffice

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// Sender types by their domain names, to keep the switch readable.
const (
	senderVisitor = aggregate.SenderVisitor
	senderAgent   = aggregate.SenderAgent
	senderBot     = aggregate.SenderBot
	senderSystem  = aggregate.SenderSystem
)

// Messages returns the messages of session id posted after cursor (the
// decimal ChatMessageId of the last message had; "" is the start), in
// ChatMessageId order, and the cursor after them. It fails with an error
// matching source.ErrNotFound when SuperOffice does not know the session,
// and source.ErrInvalid when the answer holds a message already had (an
// after that was not honoured), a message without WhenPosted, or one
// ChatMessageId twice.
//
// WebAPI: GET /ChatSession/{id}/Messages?after= (and GET /ChatSession/{id}
// when the session was not read just before).
func (c *Client) Messages(ctx context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	msgs, next, err := c.messages(ctx, id, cursor)
	if err != nil {
		return nil, "", c.wrap(err, "fetch messages of chat session %s", source.Clip(id, 64))
	}
	return msgs, next, nil
}

func (c *Client) messages(ctx context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	n, err := parseSessionID(id)
	if err != nil {
		return nil, "", err
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	e, ok := c.memo.take(n, after, c.now())
	if !ok {
		if e.whenStarted, err = c.whenStarted(ctx, n); err != nil {
			return nil, "", err
		}
		if e.msgs, err = c.fetchMessages(ctx, n, after); err != nil {
			return nil, "", err
		}
	}
	out := make([]aggregate.Message, 0, len(e.msgs))
	for i := range e.msgs {
		out = append(out, c.message(n, &e.msgs[i], e.whenStarted))
	}
	if k := len(e.msgs); k > 0 {
		after = int64(e.msgs[k-1].ChatMessageID)
	}
	return out, formatCursor(after), nil
}

// whenStarted is session n's acceptance time: from its record when known
// (it never changes once set), else from SuperOffice.
func (c *Client) whenStarted(ctx context.Context, n int64) (time.Time, error) {
	rec, err := c.loadRecord(ctx, n)
	if err != nil {
		return time.Time{}, err
	}
	if !rec.WhenStarted.IsZero() {
		return rec.WhenStarted, nil
	}
	ent, err := c.fetchSession(ctx, n)
	if err != nil {
		return time.Time{}, err
	}
	return ent.WhenStarted.Time, nil
}

// fetchMessages reads session n's messages after ChatMessageId after.
func (c *Client) fetchMessages(ctx context.Context, n, after int64) ([]wireMessage, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	body, err := c.get(ctx, "messages", c.endpoint(fmt.Sprintf("/ChatSession/%d/Messages", n), q), errSessionNotFound(n))
	if err != nil {
		return nil, err
	}
	return decodeMessages(body, n, after, c.limits())
}

// parseCursor reads a cursor Messages handed out.
func parseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("cursor %q is not a ChatMessageId", cursor)
	}
	return n, nil
}

func formatCursor(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// kinds returns m's Type and SpecialType as numbers. An unknown Type is
// Invalid and an unknown SpecialType None, each logged.
func (c *Client) kinds(id int64, m *wireMessage) (typ, special int) {
	typ, ok := m.Type.lookup(typeNames)
	if !ok {
		c.warn("type:"+m.Type.String(), "superoffice: a message Type this syncworker does not know; shown as a system message",
			"session", id, "message", int64(m.ChatMessageID), "Type", m.Type.String())
		typ = typeInvalid
	}
	if !m.SpecialType.set {
		return typ, specialNone
	}
	special, ok = m.SpecialType.lookup(specialNames)
	if !ok && !m.SpecialType.isNum && strings.EqualFold(m.SpecialType.name, "Deleted") {
		// CRMScript's docs name SessionDeleted "Deleted".
		special, ok = specialSessionDeleted, true
	}
	if !ok {
		c.warn("special:"+m.SpecialType.String(), "superoffice: a message SpecialType this syncworker does not know; taken as None",
			"session", id, "message", int64(m.ChatMessageID), "SpecialType", m.SpecialType.String())
		special = specialNone
	}
	return typ, special
}

// senderOf tells who wrote m (SPEC §4.3.1): ToUser is the customer;
// ToCustomer is an agent, or the bot when it is a BotMessage, its author
// is one of chat.bot_names, or it was posted while no user had accepted
// the chat; Special is the system, except a ClickedOption, which is the
// customer's. A Type that is not one of the three (Invalid) is shown as a
// system message.
func (c *Client) senderOf(typ, special int, m *wireMessage, whenStarted time.Time) aggregate.SenderType {
	switch typ {
	case typeToUser:
		return senderVisitor
	case typeToCustomer:
		if special == specialBotMessage || c.bots[botKey(m.Author)] || whenStarted.IsZero() ||
			m.WhenPosted.Before(whenStarted) {
			return senderBot
		}
		return senderAgent
	case typeSpecial:
		if special == specialClickedOption {
			return senderVisitor
		}
	}
	return senderSystem
}

// message translates m of session n into the domain. Every message
// belongs to the session's one live chat. A system line without author is
// named "system".
func (c *Client) message(n int64, m *wireMessage, whenStarted time.Time) aggregate.Message {
	typ, special := c.kinds(n, m)
	sender := c.senderOf(typ, special, m, whenStarted)
	name := strings.TrimSpace(m.Author)
	if sender == senderSystem && name == "" {
		name = "system"
	}
	mid := int64(m.ChatMessageID)
	return aggregate.Message{
		Seq:        mid,
		ID:         strconv.FormatInt(mid, 10),
		SentAt:     m.WhenPosted.Time,
		Sender:     aggregate.Sender{Type: sender, Name: name},
		LiveChatID: strconv.FormatInt(n, 10),
		Text:       m.Message,
	}
}
