// Package aggregate turns one chatbot widget session into the values of one
// ESM chat-session card, following SPEC §5.
//
// It owns the domain types the rest of syncworker speaks in. It does no I/O
// and reads no clock: the caller passes the time, the tenant time zone and the
// limits in Options. The transcript types carry no wire format: each chat
// platform's adapter translates at its own edge, the state store has its
// own encoding, and internal/transcript reads the case files. Card's JSON
// is the golden card.json format.
package aggregate

import (
	"strings"
	"time"
)

// Status is the state of a widget session on the chat platform.
type Status string

// Session statuses. Any status other than StatusEnded is treated as active.
const (
	StatusActive Status = "active"
	StatusEnded  Status = "ended"
)

// SenderType says who wrote a message.
type SenderType string

// Sender types of SPEC §4.1. Other values may arrive; they are counted and
// shown as system messages.
const (
	SenderVisitor SenderType = "visitor"
	SenderAgent   SenderType = "agent"
	SenderBot     SenderType = "bot"
	SenderSystem  SenderType = "system"
)

// Known reports whether t is one of the four sender types of SPEC §4.1.
func (t SenderType) Known() bool {
	switch t {
	case SenderVisitor, SenderAgent, SenderBot, SenderSystem:
		return true
	}
	return false
}

// Session is one chatbot widget session: the unit that maps to one card.
// A zero time means the platform sent null or nothing.
type Session struct {
	ID        string
	Status    Status
	StartedAt time.Time
	EndedAt   time.Time
	UpdatedAt time.Time
	Customer  Customer
	LiveChats []LiveChat
	// ReopenableUntil, when set on an ended session, is when the platform
	// stops letting the customer reopen it; until then it is not final.
	ReopenableUntil time.Time
	// TranscriptMissing is set by a platform whose messages arrive as one
	// file after the chat (CCAI Platform) while that file is not there:
	// the card's message count and chat log then have no value, rather
	// than 0 and an empty log (SPEC §4.3.3).
	TranscriptMissing bool
}

// Ended reports whether the platform says the session is over.
func (s *Session) Ended() bool { return s.Status == StatusEnded }

// Reopenable reports whether an ended session may still be reopened by the
// customer at now (SuperOffice's Finished within its grace): its card then
// keeps the active value and gets no end time yet.
func (s *Session) Reopenable(now time.Time) bool {
	return s.Ended() && now.Before(s.ReopenableUntil)
}

// Customer is the end user of a widget session.
type Customer struct {
	ID    string
	Name  string
	Email string
}

// LiveChat is one hand-off from the bot to human agents inside a session.
// ConnectedAt is zero when the chat was requested but never established.
type LiveChat struct {
	ID          string
	RequestedAt time.Time
	ConnectedAt time.Time
	EndedAt     time.Time
	Agents      []Agent
}

// Agent is one stint of a support person in a live chat. The same person
// appears twice when they leave and rejoin.
type Agent struct {
	ID       string
	Name     string
	Email    string
	JoinedAt time.Time
	LeftAt   time.Time
}

// Message is one entry of a session's transcript. Seq starts at 1 and
// strictly increases within a session.
type Message struct {
	Seq        int64
	ID         string
	SentAt     time.Time
	Sender     Sender
	LiveChatID string
	Text       string
}

// Sender is the author of a message.
type Sender struct {
	Type  SenderType
	ID    string
	Name  string
	Email string
}

// Identity is a person as the chat platform knows them. The sync engine
// turns identities into ESM Person references by Email.
type Identity struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Key is the identity's case-insensitive email, the key ESM Person cards are
// matched by. It is empty when the identity has no email.
func (id Identity) Key() string { return NormalizeEmail(id.Email) }

// NormalizeEmail returns the form in which two emails compare equal:
// trimmed and lower-cased.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Card holds the values the worker writes onto one chat-session card.
// A nil pointer is "no value", which is different from a zero value:
// a first-reply wait of 0 s is not the same card as "no reply yet".
type Card struct {
	SessionID     string     `json:"session_id"`
	ChatLog       string     `json:"chat_log"`
	MessageCount  int        `json:"message_count"`
	Customer      *Identity  `json:"customer"`
	Members       []Identity `json:"members"`
	SupportPerson *Identity  `json:"support_person"`
	StartTime     time.Time  `json:"start_time"`
	EndTime       *time.Time `json:"end_time"`
	// FirstReplyWait is in whole seconds.
	FirstReplyWait *int64 `json:"first_reply_wait"`
	Active         bool   `json:"active"`
	// Expired is set when the session is closed because it outlived
	// Options.MaxActiveAge rather than because the platform ended it.
	Expired bool `json:"expired,omitempty"`
	// UnknownSenders counts messages whose sender type is not one of the
	// four known ones; they are shown as system messages.
	UnknownSenders int `json:"unknown_senders,omitempty"`
	// TranscriptMissing: the platform has not delivered the transcript;
	// ChatLog and MessageCount are "no value", not "" and 0.
	TranscriptMissing bool `json:"transcript_missing,omitempty"`
}

// Options are the inputs to Aggregate that do not come from the transcript.
type Options struct {
	// Now is the time the aggregation is done at; it decides expiry.
	Now time.Time
	// Location is the tenant time zone for chat-log timestamps; nil is UTC.
	Location *time.Location
	// MaxActiveAge closes a session still active this long after it
	// started; 0 never closes one.
	MaxActiveAge time.Duration
	// ChatLogMaxChars caps the chat log in characters; 0 is unlimited.
	ChatLogMaxChars int
}
