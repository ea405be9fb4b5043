package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// genericPlatform fakes the generic chat platform API of SPEC §4.1 under
// ChatPrefix: the chat store's sessions as they are.
type genericPlatform struct{}

func (genericPlatform) prefix() string { return ChatPrefix }

func (genericPlatform) routes(s *Server) {
	s.handleChat("GET", "/sessions", RouteListSessions, s.chatAuth, s.handleListSessions)
	s.handleChat("GET", "/sessions/{id}", RouteGetSession, s.chatAuth, s.handleGetSession)
	s.handleChat("GET", "/sessions/{id}/messages", RouteListMessages, s.chatAuth, s.handleListMessages)
}

func (genericPlatform) chatConfig(s *Server, base string) string {
	return fmt.Sprintf("  base_url: %s%s\n  token: %s\n", base, ChatPrefix, s.opts.ChatToken)
}

func (genericPlatform) sessionID(domainID string) string { return domainID }

func (genericPlatform) express(s aggregate.Session, msgs []aggregate.Message) (aggregate.Session, []aggregate.Message) {
	return s, msgs
}

// Wire shapes of SPEC §4.1. They differ from the domain types in writing
// absent times and live chat ids as null, as the platform does.

type wireSummary struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

type wireSession struct {
	wireSummary
	Customer  wireCustomer   `json:"customer"`
	LiveChats []wireLiveChat `json:"live_chats"`
}

type wireCustomer struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type wireLiveChat struct {
	ID          string      `json:"id"`
	RequestedAt *time.Time  `json:"requested_at"`
	ConnectedAt *time.Time  `json:"connected_at"`
	EndedAt     *time.Time  `json:"ended_at"`
	Agents      []wireAgent `json:"agents"`
}

type wireAgent struct {
	ID       string     `json:"id,omitempty"`
	Name     string     `json:"name"`
	Email    string     `json:"email"`
	JoinedAt *time.Time `json:"joined_at"`
	LeftAt   *time.Time `json:"left_at"`
}

type wireMessage struct {
	Seq        int64      `json:"seq"`
	ID         string     `json:"id"`
	SentAt     time.Time  `json:"sent_at"`
	Sender     wireSender `json:"sender"`
	LiveChatID *string    `json:"live_chat_id"`
	Text       string     `json:"text"`
}

type wireSender struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func summary(s *aggregate.Session) wireSummary {
	return wireSummary{
		ID:        s.ID,
		Status:    string(s.Status),
		StartedAt: s.StartedAt,
		EndedAt:   nullTime(s.EndedAt),
		UpdatedAt: s.UpdatedAt,
	}
}

func toWireSession(s *aggregate.Session) wireSession {
	c := s.Customer
	out := wireSession{wireSummary: summary(s), Customer: wireCustomer{ID: c.ID, Name: c.Name, Email: c.Email},
		LiveChats: []wireLiveChat{}}
	for _, lc := range s.LiveChats {
		w := wireLiveChat{
			ID:          lc.ID,
			RequestedAt: nullTime(lc.RequestedAt),
			ConnectedAt: nullTime(lc.ConnectedAt),
			EndedAt:     nullTime(lc.EndedAt),
			Agents:      []wireAgent{},
		}
		for _, a := range lc.Agents {
			w.Agents = append(w.Agents, wireAgent{
				ID: a.ID, Name: a.Name, Email: a.Email,
				JoinedAt: nullTime(a.JoinedAt), LeftAt: nullTime(a.LeftAt),
			})
		}
		out.LiveChats = append(out.LiveChats, w)
	}
	return out
}

func toWireMessage(m aggregate.Message) wireMessage {
	w := wireMessage{
		Seq:    m.Seq,
		ID:     m.ID,
		SentAt: m.SentAt,
		Sender: wireSender{Type: string(m.Sender.Type), ID: m.Sender.ID, Name: m.Sender.Name, Email: m.Sender.Email},
		Text:   m.Text,
	}
	if m.LiveChatID != "" {
		id := m.LiveChatID
		w.LiveChatID = &id
	}
	return w
}

// pageLimit reads the limit parameter: def when absent, at most maxN.
func pageLimit(r *http.Request, def, maxN int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, false
	}
	return min(n, maxN), true
}

// handleListSessions serves GET /sessions?updated_since=&limit=&cursor=.
func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(r, DefaultChatPageSize, MaxChatPageSize)
	if !ok {
		s.writeError(w, r, APIChat, http.StatusBadRequest, "limit must be a positive integer")
		return
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.writeError(w, r, APIChat, http.StatusBadRequest, "updated_since must be RFC 3339")
			return
		}
		since = t
	}
	after, afterID, hasCursor, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, APIChat, http.StatusBadRequest, "invalid cursor")
		return
	}
	page, next := s.chat.list(since, after, afterID, hasCursor, limit)
	writeJSON(w, http.StatusOK, struct {
		Sessions   []wireSummary `json:"sessions"`
		NextCursor string        `json:"next_cursor"`
	}{page, next})
}

// list returns up to limit sessions with updated_at >= since that come
// after the cursor position, and the cursor of the next page ("" at end).
func (c *chatStore) list(since, after time.Time, afterID string, hasCursor bool, limit int) ([]wireSummary, string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, _ := c.position(since, "")
	if hasCursor {
		j, found := c.position(after, afterID)
		if found {
			j++
		}
		i = max(i, j)
	}
	end := min(i+limit, len(c.order))
	page := make([]wireSummary, 0, end-i)
	for _, cs := range c.order[i:end] {
		page = append(page, summary(&cs.sess))
	}
	next := ""
	if end < len(c.order) && len(page) > 0 {
		last := c.order[end-1].sess
		next = encodeCursor(last.UpdatedAt, last.ID)
	}
	return page, next
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + "|" + id))
}

func decodeCursor(v string) (time.Time, string, bool, error) {
	if v == "" {
		return time.Time{}, "", false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return time.Time{}, "", false, err
	}
	ns, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", false, strconv.ErrSyntax
	}
	return time.Unix(0, n).UTC(), id, true, nil
}

// handleGetSession serves GET /sessions/{id}.
func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request) {
	c := s.chat
	c.mu.RLock()
	cs, ok := c.sessions[r.PathValue("id")]
	var out wireSession
	if ok {
		out = toWireSession(&cs.sess)
	}
	c.mu.RUnlock()
	if !ok {
		s.writeError(w, r, APIChat, http.StatusNotFound, "session not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleListMessages serves GET /sessions/{id}/messages?after=&limit=.
func (s *Server) handleListMessages(w http.ResponseWriter, r *http.Request) {
	limit, ok := pageLimit(r, DefaultChatPageSize, MaxChatPageSize)
	if !ok {
		s.writeError(w, r, APIChat, http.StatusBadRequest, "limit must be a positive integer")
		return
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, APIChat, http.StatusBadRequest, "after must be a message seq")
			return
		}
		after = n
	}
	msgs, more, ok := s.chat.messages(r.PathValue("id"), after, limit)
	if !ok {
		s.writeError(w, r, APIChat, http.StatusNotFound, "session not found")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Messages []wireMessage `json:"messages"`
		HasMore  bool          `json:"has_more"`
	}{msgs, more})
}

func (c *chatStore) messages(id string, after int64, limit int) ([]wireMessage, bool, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cs, ok := c.sessions[id]
	if !ok {
		return nil, false, false
	}
	i, found := searchSeq(cs.msgs, after)
	if found {
		i++
	}
	end := min(i+limit, len(cs.msgs))
	out := make([]wireMessage, 0, end-i)
	for _, m := range cs.msgs[i:end] {
		out = append(out, toWireMessage(c.message(m)))
	}
	return out, end < len(cs.msgs), true
}

func searchSeq(msgs []storedMsg, seq int64) (int, bool) {
	lo, hi := 0, len(msgs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if msgs[m].seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(msgs) && msgs[lo].seq == seq
}

func (genericPlatform) chatRoutes() ChatRoutes {
	return ChatRoutes{List: RouteListSessions, Session: RouteGetSession, Messages: RouteListMessages}
}
