package sandbox

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// Errors of the Go API.
var (
	ErrSessionExists   = errors.New("sandbox: session already exists")
	ErrSessionNotFound = errors.New("sandbox: session not found")
	ErrCardNotFound    = errors.New("sandbox: card not found")
	ErrBadSeq          = errors.New("sandbox: message seq does not increase")
)

// chatStore holds the chat platform's sessions. Messages are kept in a
// compact form (senders interned, times as Unix nanoseconds) so that tens
// of thousands of sessions with their transcripts stay small.
type chatStore struct {
	mu       sync.RWMutex
	sessions map[string]*chatSession
	// order is every session sorted by (updated_at, id), the order of
	// GET /sessions; a page is a binary search plus a slice walk.
	order     []*chatSession
	senders   []aggregate.Sender
	senderIdx map[aggregate.Sender]int32
	liveIDs   []string
	liveIdx   map[string]int32
}

type chatSession struct {
	sess aggregate.Session
	msgs []storedMsg
}

type storedMsg struct {
	seq    int64
	sentAt int64 // Unix nanoseconds, shown in UTC
	id     string
	text   string
	sender int32 // index into chatStore.senders
	live   int32 // index into chatStore.liveIDs; 0 is no live chat
}

func newChatStore() *chatStore {
	return &chatStore{
		sessions:  make(map[string]*chatSession),
		senderIdx: make(map[aggregate.Sender]int32),
		liveIDs:   []string{""},
		liveIdx:   map[string]int32{"": 0},
	}
}

func compareOrder(a *chatSession, updated time.Time, id string) int {
	return cmp.Or(a.sess.UpdatedAt.Compare(updated), cmp.Compare(a.sess.ID, id))
}

// position returns where (updated, id) is or would be in c.order.
func (c *chatStore) position(updated time.Time, id string) (int, bool) {
	return slices.BinarySearchFunc(c.order, id, func(a *chatSession, id string) int {
		return compareOrder(a, updated, id)
	})
}

func (c *chatStore) insertOrdered(cs *chatSession) {
	i, _ := c.position(cs.sess.UpdatedAt, cs.sess.ID)
	c.order = slices.Insert(c.order, i, cs)
}

func (c *chatStore) removeOrdered(cs *chatSession) {
	if i, ok := c.position(cs.sess.UpdatedAt, cs.sess.ID); ok {
		c.order = slices.Delete(c.order, i, i+1)
	}
}

func (c *chatStore) intern(s aggregate.Sender) int32 {
	if i, ok := c.senderIdx[s]; ok {
		return i
	}
	i := int32(len(c.senders))
	c.senders = append(c.senders, s)
	c.senderIdx[s] = i
	return i
}

func (c *chatStore) internLive(id string) int32 {
	if i, ok := c.liveIdx[id]; ok {
		return i
	}
	i := int32(len(c.liveIDs))
	c.liveIDs = append(c.liveIDs, id)
	c.liveIdx[id] = i
	return i
}

// appendMsgs validates and stores msgs after the existing ones, assigning
// seq (last+1) where it is 0.
func (c *chatStore) appendMsgs(cs *chatSession, msgs []aggregate.Message) error {
	last := int64(0)
	if n := len(cs.msgs); n > 0 {
		last = cs.msgs[n-1].seq
	}
	for _, m := range msgs {
		if m.Seq == 0 {
			m.Seq = last + 1
		}
		if m.Seq <= last {
			return fmt.Errorf("%w: %d after %d in session %s", ErrBadSeq, m.Seq, last, cs.sess.ID)
		}
		last = m.Seq
		cs.msgs = append(cs.msgs, storedMsg{
			seq:    m.Seq,
			sentAt: m.SentAt.UnixNano(),
			id:     m.ID,
			text:   m.Text,
			sender: c.intern(m.Sender),
			live:   c.internLive(m.LiveChatID),
		})
	}
	return nil
}

func (c *chatStore) message(m storedMsg) aggregate.Message {
	id := m.id
	if id == "" {
		id = "m-" + strconv.FormatInt(m.seq, 10)
	}
	return aggregate.Message{
		Seq:        m.seq,
		ID:         id,
		SentAt:     time.Unix(0, m.sentAt).UTC(),
		Sender:     c.senders[m.sender],
		LiveChatID: c.liveIDs[m.live],
		Text:       m.text,
	}
}

// cloneSession deep-copies s so that the caller and the store never share
// slices, normalising times to UTC.
func cloneSession(s aggregate.Session) aggregate.Session {
	s.StartedAt = s.StartedAt.UTC()
	s.EndedAt = s.EndedAt.UTC()
	s.UpdatedAt = s.UpdatedAt.UTC()
	lcs := make([]aggregate.LiveChat, len(s.LiveChats))
	for i, lc := range s.LiveChats {
		lc.RequestedAt = lc.RequestedAt.UTC()
		lc.ConnectedAt = lc.ConnectedAt.UTC()
		lc.EndedAt = lc.EndedAt.UTC()
		lc.Agents = slices.Clone(lc.Agents)
		for j := range lc.Agents {
			lc.Agents[j].JoinedAt = lc.Agents[j].JoinedAt.UTC()
			lc.Agents[j].LeftAt = lc.Agents[j].LeftAt.UTC()
		}
		lcs[i] = lc
	}
	s.LiveChats = lcs
	return s
}

// latest returns the latest time the session mentions, its natural
// updated_at when none is given.
func latest(s *aggregate.Session, msgs []aggregate.Message) time.Time {
	t := s.StartedAt
	upd := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	upd(s.EndedAt)
	for _, lc := range s.LiveChats {
		upd(lc.RequestedAt)
		upd(lc.ConnectedAt)
		upd(lc.EndedAt)
		for _, a := range lc.Agents {
			upd(a.JoinedAt)
			upd(a.LeftAt)
		}
	}
	for _, m := range msgs {
		upd(m.SentAt)
	}
	return t.UTC()
}

// AddSession adds a session and its transcript to the chat platform.
// A zero UpdatedAt becomes the latest time the session mentions; an empty
// Status becomes active; a message with Seq 0 gets the previous seq + 1.
// It adds no cards: see AddCase for that.
func (s *Server) AddSession(sess aggregate.Session, msgs []aggregate.Message) error {
	if err := s.addSession(sess, msgs); err != nil {
		return err
	}
	s.notifyChanged(sess.ID)
	return nil
}

// changeNotifier is a platform that pushes what changes (CCAI Platform's
// events): it is told of every change after the store let go of it.
type changeNotifier interface {
	changed(s *Server, domainID string)
}

func (s *Server) notifyChanged(id string) {
	if n, ok := s.plat.(changeNotifier); ok {
		n.changed(s, id)
	}
}

func (s *Server) addSession(sess aggregate.Session, msgs []aggregate.Message) error {
	if sess.ID == "" {
		return errors.New("sandbox: session without id")
	}
	sess = cloneSession(sess)
	if sess.UpdatedAt.IsZero() {
		sess.UpdatedAt = latest(&sess, msgs)
	}
	if sess.Status == "" {
		sess.Status = aggregate.StatusActive
	}
	c := s.chat
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sessions[sess.ID]; ok {
		return fmt.Errorf("%w: %s", ErrSessionExists, sess.ID)
	}
	cs := &chatSession{sess: sess, msgs: make([]storedMsg, 0, len(msgs))}
	if err := c.appendMsgs(cs, msgs); err != nil {
		return err
	}
	c.sessions[sess.ID] = cs
	c.insertOrdered(cs)
	return nil
}

// AppendMessages adds messages to the end of a session's transcript and
// moves its updated_at to now. Seq 0 means the previous seq + 1.
func (s *Server) AppendMessages(sessionID string, msgs ...aggregate.Message) error {
	return s.changeSession(sessionID, func(c *chatStore, cs *chatSession) error {
		return c.appendMsgs(cs, msgs)
	})
}

// UpdateSession lets fn change a session (live chats, agents, customer,
// status...) and moves its updated_at to now. fn must not keep the pointer.
func (s *Server) UpdateSession(sessionID string, fn func(*aggregate.Session)) error {
	return s.changeSession(sessionID, func(_ *chatStore, cs *chatSession) error {
		id := cs.sess.ID
		fn(&cs.sess)
		cs.sess.ID = id
		cs.sess = cloneSession(cs.sess)
		return nil
	})
}

// EndSession marks a session ended at at (zero: now), closes its open live
// chats and agent stints, and moves its updated_at.
func (s *Server) EndSession(sessionID string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC()
	return s.UpdateSession(sessionID, func(sess *aggregate.Session) {
		sess.Status = aggregate.StatusEnded
		sess.EndedAt = at
		for i := range sess.LiveChats {
			lc := &sess.LiveChats[i]
			if lc.EndedAt.IsZero() {
				lc.EndedAt = at
			}
			for j := range lc.Agents {
				if lc.Agents[j].LeftAt.IsZero() && !lc.Agents[j].JoinedAt.IsZero() {
					lc.Agents[j].LeftAt = at
				}
			}
		}
	})
}

func (s *Server) changeSession(id string, fn func(*chatStore, *chatSession) error) error {
	err := s.changeSessionLocked(id, fn)
	if err == nil {
		s.notifyChanged(id)
	}
	return err
}

func (s *Server) changeSessionLocked(id string, fn func(*chatStore, *chatSession) error) error {
	c := s.chat
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.sessions[id]
	if !ok {
		return fmt.Errorf("%w: %s", ErrSessionNotFound, id)
	}
	c.removeOrdered(cs)
	err := fn(c, cs)
	now := s.now().UTC()
	if p := s.opts.UpdatedAtPrecision; p > 0 {
		now = now.Truncate(p)
	}
	if now.After(cs.sess.UpdatedAt) {
		cs.sess.UpdatedAt = now
	}
	c.insertOrdered(cs)
	return err
}

// DeleteSession removes a session from the chat platform, which then
// answers 404 for it. It reports whether the session existed.
func (s *Server) DeleteSession(sessionID string) bool {
	c := s.chat
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.sessions[sessionID]
	if ok {
		c.removeOrdered(cs)
		delete(c.sessions, sessionID)
	}
	return ok
}

// Session returns a copy of a session and its transcript.
func (s *Server) Session(sessionID string) (aggregate.Session, []aggregate.Message, bool) {
	c := s.chat
	c.mu.RLock()
	defer c.mu.RUnlock()
	cs, ok := c.sessions[sessionID]
	if !ok {
		return aggregate.Session{}, nil, false
	}
	msgs := make([]aggregate.Message, len(cs.msgs))
	for i, m := range cs.msgs {
		msgs[i] = c.message(m)
	}
	return cloneSession(cs.sess), msgs, true
}

// SessionIDs returns the ids of all sessions in the order GET /sessions
// lists them: by (updated_at, id).
func (s *Server) SessionIDs() []string {
	c := s.chat
	c.mu.RLock()
	defer c.mu.RUnlock()
	ids := make([]string, len(c.order))
	for i, cs := range c.order {
		ids[i] = cs.sess.ID
	}
	return ids
}
