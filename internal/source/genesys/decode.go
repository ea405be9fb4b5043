package genesys

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syncworker/syncworker/internal/source"
)

// Bounds of plausible data. A value outside them is a broken or hostile
// server, never something to write onto a card.
const (
	maxIDLen = 256
	// maxFuture tolerates clock skew between the platform and us.
	maxFuture = 24 * time.Hour
	// maxParticipants and maxListedIDs bound one conversation.
	maxParticipants = 1000
	maxListedIDs    = 100_000
)

// minTime is the earliest plausible timestamp.
var minTime = time.Unix(0, 0)

// limits are the checks' parameters: the time to judge "future" by and the
// text cap.
type limits struct {
	now     time.Time
	maxText int
}

func (c *Client) limits() limits { return limits{now: c.now(), maxText: c.maxText} }

// checkID refuses ids that could not be put in a URL path, a SQLite row or
// an ESM filter without surprises.
func checkID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s missing", what)
	case len(id) > maxIDLen:
		return fmt.Errorf("%s longer than %d bytes", what, maxIDLen)
	case strings.ContainsFunc(id, unicode.IsControl):
		return fmt.Errorf("%s contains control characters", what)
	}
	return nil
}

// nameID is id as error messages show it: as is when it is a sane id,
// quoted and shortened otherwise.
func nameID(id string) string {
	if checkID("", id) == nil {
		return id
	}
	return strconv.Quote(source.Clip(id, 64))
}

// checkTime checks that t, when set, is plausible, and that it is set when
// required.
func (l limits) checkTime(what string, t time.Time, required bool) error {
	switch {
	case t.IsZero():
		if required {
			return fmt.Errorf("%s missing", what)
		}
	case t.Before(minTime):
		return fmt.Errorf("%s %s is before 1970", what, t.Format(time.RFC3339))
	case t.After(l.now.Add(maxFuture)):
		return fmt.Errorf("%s %s is in the future", what, t.Format(time.RFC3339))
	}
	return nil
}

// decodeConversation decodes and checks the body of
// GET /api/v2/conversations/{id}.
func decodeConversation(body []byte, l limits) (*wireConversation, error) {
	var w wireConversation
	if err := unmarshalObject(body, &w); err != nil {
		return nil, err
	}
	if err := l.checkConversation(&w); err != nil {
		return nil, source.Invalidf("%v", err)
	}
	return &w, nil
}

func (l limits) checkConversation(w *wireConversation) error {
	if err := checkID("id", w.ID); err != nil {
		return err
	}
	err := firstErr(l.checkTime("startTime", w.StartTime, true), l.checkTime("endTime", w.EndTime, false))
	if err != nil {
		return err
	}
	if len(w.Participants) > maxParticipants {
		return fmt.Errorf("%d participants, more than %d", len(w.Participants), maxParticipants)
	}
	listed := 0
	for i := range w.Participants {
		p := &w.Participants[i]
		if err := l.checkParticipant(p); err != nil {
			return fmt.Errorf("participants[%d]: %w", i, err)
		}
		for _, comm := range p.Messages {
			listed += len(comm.Messages)
		}
	}
	if listed > maxListedIDs {
		return fmt.Errorf("%d message ids listed, more than %d", listed, maxListedIDs)
	}
	return nil
}

func (l limits) checkParticipant(p *wireParticipant) error {
	if err := checkID("id", p.ID); err != nil {
		return err
	}
	for what, id := range map[string]string{"userId": p.UserID, "externalContactId": p.ExternalContactID} {
		if id != "" {
			if err := checkID(what, id); err != nil {
				return err
			}
		}
	}
	err := firstErr(
		l.checkTime("startTime", p.StartTime, false),
		l.checkTime("connectedTime", p.ConnectedTime, false),
		l.checkTime("endTime", p.EndTime, false),
	)
	if err != nil {
		return err
	}
	for i, comm := range p.Messages {
		for j, m := range comm.Messages {
			if err := checkID("messageId", m.MessageID); err != nil {
				return fmt.Errorf("messages[%d].messages[%d]: %w", i, j, err)
			}
			if err := l.checkTime("messageTime", m.MessageTime, true); err != nil {
				return fmt.Errorf("message %s: %w", nameID(m.MessageID), err)
			}
		}
	}
	return nil
}

// decodeBulk decodes and checks the body of a bulk message request.
func decodeBulk(body []byte, l limits) ([]wireMessageData, error) {
	var w wireMessageListing
	if err := unmarshalObject(body, &w); err != nil {
		return nil, err
	}
	for i := range w.Entities {
		if err := l.checkMessage(&w.Entities[i]); err != nil {
			return nil, source.Invalidf("entities[%d]: %v", i, err)
		}
	}
	return w.Entities, nil
}

func (l limits) checkMessage(m *wireMessageData) error {
	if err := checkID("id", m.ID); err != nil {
		return err
	}
	if err := l.checkTime("timestamp", m.Timestamp, false); err != nil {
		return fmt.Errorf("message %s: %w", nameID(m.ID), err)
	}
	if n := len(m.text()); n > l.maxText {
		return fmt.Errorf("message %s: text of %d bytes is over the cap of %d", nameID(m.ID), n, l.maxText)
	}
	if m.CreatedBy != nil && m.CreatedBy.ID != "" {
		if err := checkID("createdBy.id", m.CreatedBy.ID); err != nil {
			return fmt.Errorf("message %s: %w", nameID(m.ID), err)
		}
	}
	return nil
}

// text is the message's text: the normalised text, else the deprecated
// textBody, made valid UTF-8.
func (m *wireMessageData) text() string {
	t := m.TextBody
	if m.NormalizedMessage != nil && m.NormalizedMessage.Text != "" {
		t = m.NormalizedMessage.Text
	}
	return strings.ToValidUTF8(t, "\uFFFD")
}

// decodeUser decodes the body of GET /api/v2/users/{userId}.
func decodeUser(body []byte) (wireUser, error) {
	var u wireUser
	if err := unmarshalObject(body, &u); err != nil {
		return u, err
	}
	return u, nil
}

// decodeContact decodes the body of GET /api/v2/externalcontacts/contacts/{id}.
func decodeContact(body []byte) (wireContact, error) {
	var ct wireContact
	if err := unmarshalObject(body, &ct); err != nil {
		return ct, err
	}
	return ct, nil
}

// decodeQueryResponse decodes and checks one page of the details query.
// An entry whose id does not check fails the page; a start time that does
// not check is left zero, so that one garbled conversation cannot stop a
// backfill (fetching it reports what is wrong, for it alone).
func decodeQueryResponse(body []byte, l limits) (*wireQueryResponse, error) {
	var w wireQueryResponse
	if err := unmarshalObject(body, &w); err != nil {
		return nil, err
	}
	if w.TotalHits < 0 {
		return nil, source.Invalidf("totalHits %d is negative", w.TotalHits)
	}
	for i := range w.Conversations {
		c := &w.Conversations[i]
		if err := checkID("conversationId", c.ConversationID); err != nil {
			return nil, source.Invalidf("conversations[%d]: %v", i, err)
		}
		if l.checkTime("conversationStart", c.ConversationStart, true) != nil {
			c.ConversationStart = time.Time{}
		}
		if l.checkTime("conversationEnd", c.ConversationEnd, false) != nil {
			c.ConversationEnd = time.Time{}
		}
	}
	return &w, nil
}

// firstErr returns the first non-nil error, so that a message names one
// problem on one line.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
