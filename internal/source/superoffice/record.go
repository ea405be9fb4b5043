package superoffice

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// nsSession is the cache namespace of the per-session records.
const nsSession = "superoffice.session"

// record is what the adapter remembers about one session between passes:
// who accepted it first, the transfers it has seen, and how far it has
// read the transcript for them. SuperOffice itself only says who has the
// session now.
type record struct {
	// WhenStarted is the acceptance time once known; it never changes.
	WhenStarted time.Time `json:"when_started,omitzero"`
	// First is the first stint, decided once: nil while undecided.
	First *firstAgent `json:"first,omitempty"`
	// FirstAuthor is the Author of the first agent message seen.
	FirstAuthor string     `json:"first_author,omitempty"`
	Transfers   []transfer `json:"transfers,omitempty"`
	// Scanned is the last ChatMessageId read for transfers.
	Scanned int64 `json:"scanned"`
}

// firstAgent is the user who accepted the session. Neither an associate
// nor ByAuthor: nobody is known.
type firstAgent struct {
	AssociateID int64  `json:"associate_id,omitempty"`
	Name        string `json:"name,omitempty"`
	// ByAuthor: the session was first seen after a transfer, so the first
	// agent is known only as the author of the first agent message.
	ByAuthor bool `json:"by_author,omitempty"`
}

// transfer is one TransferedSession message.
type transfer struct {
	MessageID   int64     `json:"message_id"`
	AssociateID int64     `json:"associate_id"`
	At          time.Time `json:"at"`
	Rejected    bool      `json:"rejected,omitempty"`
}

func (c *Client) loadRecord(ctx context.Context, id int64) (record, error) {
	var rec record
	v, ok, err := c.cache.CacheGet(ctx, nsSession, strconv.FormatInt(id, 10))
	if err != nil || !ok {
		return rec, err
	}
	if json.Unmarshal([]byte(v), &rec) != nil {
		// A record this version cannot read is started afresh: the
		// transcript is read again from its start.
		c.warn("record:"+strconv.FormatInt(id, 10), "superoffice: unreadable cached record of a session; reading its transcript again",
			"session", id)
		return record{}, nil
	}
	return rec, nil
}

func (c *Client) saveRecord(ctx context.Context, id int64, rec record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return c.cache.CachePut(ctx, nsSession, strconv.FormatInt(id, 10), string(b))
}

// update applies what session ent and its messages fresh (read after
// rec.Scanned) tell: the acceptance time, transfers and rejections, the
// first agent's author, and, once the session is accepted, the first
// stint. It reports whether rec changed.
func (c *Client) update(rec *record, ent *wireSession, fresh []wireMessage) bool {
	id := int64(ent.ChatSessionID)
	changed := false
	if rec.WhenStarted.IsZero() && !ent.WhenStarted.IsZero() {
		rec.WhenStarted, changed = ent.WhenStarted.Time, true
	}
	for _, m := range fresh {
		typ, special := c.kinds(id, &m)
		switch {
		case typ == typeSpecial && special == specialTransferedSession:
			rec.Transfers = append(rec.Transfers, c.transferOf(id, &m, ent))
		case typ == typeSpecial && special == specialTransferRejected:
			rec.reject(&m)
		case rec.FirstAuthor == "" && c.senderOf(typ, special, &m, rec.WhenStarted) == senderAgent:
			rec.FirstAuthor = strings.TrimSpace(m.Author)
		}
		rec.Scanned, changed = int64(m.ChatMessageID), true
	}
	if rec.First == nil && !rec.WhenStarted.IsZero() {
		rec.First, changed = c.decideFirst(rec, ent), true
	}
	return changed
}

// transferOf reads a TransferedSession message: the receiving associate's
// id is its SpecialParam. Where that is not an id, the session's User now
// is taken, as the receiver is the User once the transfer is accepted.
func (c *Client) transferOf(id int64, m *wireMessage, ent *wireSession) transfer {
	t := transfer{MessageID: int64(m.ChatMessageID), At: m.WhenPosted.Time}
	if n, err := strconv.ParseInt(strings.TrimSpace(m.SpecialParam), 10, 32); err == nil && n > 0 {
		t.AssociateID = n
		return t
	}
	if ent.User != nil {
		t.AssociateID = int64(ent.User.AssociateID)
	}
	c.warn(fmt.Sprintf("transfer:%d:%d", id, t.MessageID),
		"superoffice: a TransferedSession message does not name the receiving associate in SpecialParam; taking the session's User",
		"session", id, "message", t.MessageID, "special_param", source.Clip(m.SpecialParam, 40), "associate", t.AssociateID)
	return t
}

// reject marks the latest transfer still standing, to the associate m
// names when it names one, as rejected: it is no stint.
func (rec *record) reject(m *wireMessage) {
	to, _ := strconv.ParseInt(strings.TrimSpace(m.SpecialParam), 10, 32)
	for i := len(rec.Transfers) - 1; i >= 0; i-- {
		t := &rec.Transfers[i]
		if !t.Rejected && t.MessageID < int64(m.ChatMessageID) && (to <= 0 || t.AssociateID == to) {
			t.Rejected = true
			return
		}
	}
}

func (rec *record) standingTransfers() int {
	n := 0
	for _, t := range rec.Transfers {
		if !t.Rejected {
			n++
		}
	}
	return n
}

// decideFirst names the first stint of an accepted session: the User as
// first seen, or, when a transfer already happened, the author of the
// first agent message, by name only (SPEC §4.3.1).
func (c *Client) decideFirst(rec *record, ent *wireSession) *firstAgent {
	id := int64(ent.ChatSessionID)
	switch {
	case rec.standingTransfers() == 0 && ent.User != nil && ent.User.AssociateID > 0:
		return &firstAgent{AssociateID: int64(ent.User.AssociateID), Name: userName(ent.User)}
	case rec.standingTransfers() == 0:
		c.warn(fmt.Sprintf("nouser:%d", id), "superoffice: an accepted session has no User; it has no first agent", "session", id)
		return &firstAgent{}
	case rec.FirstAuthor != "":
		c.log.Warn("superoffice: session first seen after a transfer; its first agent is known by name only, "+
			"from the first agent message, and has no Person card", "session", id, "first_agent", rec.FirstAuthor)
		return &firstAgent{Name: rec.FirstAuthor, ByAuthor: true}
	}
	c.log.Warn("superoffice: session first seen after a transfer, with no agent message; its first agent is unknown",
		"session", id)
	return &firstAgent{}
}

func userName(a *wireAssociate) string {
	if n := strings.TrimSpace(a.FullName); n != "" {
		return n
	}
	return strings.TrimSpace(a.Name)
}
