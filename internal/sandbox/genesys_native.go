package sandbox

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// A native case is a conversation in the vendor's own JSON, for what the
// chat store's domain terms cannot say (receipts, events, removed
// messages, wrap-up, agents alerted but never connected, two messages at
// one instant). A case directory holds:
//
//	conversation.json     the body of GET /api/v2/conversations/{id}
//	messages.json         the message bodies (Messagedata), an array
//	users.json            the users (User), an array; optional
//	externalcontacts.json the external contacts, an array; optional
//
// The fake serves them as they are.
type nativeConversation struct {
	conversation []byte
	messages     map[string]json.RawMessage
	start, end   time.Time
	messageType  string
}

// nativeHead is what the fake reads of a native conversation.
type nativeHead struct {
	ID           string    `json:"id"`
	StartTime    time.Time `json:"startTime"`
	EndTime      time.Time `json:"endTime"`
	Participants []struct {
		Purpose    string            `json:"purpose"`
		Name       string            `json:"name"`
		Attributes map[string]string `json:"attributes"`
		Messages   []struct {
			Type string `json:"type"`
		} `json:"messages"`
	} `json:"participants"`
}

func (g *genesysPlatform) nativeConv(id string) *nativeConversation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.native[id]
}

// GenesysFake is the Genesys Cloud fake of a server started with Platform
// genesys-cloud: its knobs and native cases.
type GenesysFake struct {
	s *Server
	g *genesysPlatform
}

// Genesys returns the server's Genesys Cloud fake, nil when it fakes
// another platform.
func (s *Server) Genesys() *GenesysFake {
	g, ok := s.plat.(*genesysPlatform)
	if !ok {
		return nil
	}
	return &GenesysFake{s: s, g: g}
}

// SetTokenTTL sets the lifetime of the access tokens issued from now on.
func (f *GenesysFake) SetTokenTTL(d time.Duration) {
	f.g.mu.Lock()
	f.g.tokenTTL = d
	f.g.mu.Unlock()
}

// RevokeTokens makes every access token issued so far invalid, as an
// administrator revoking the client's tokens does.
func (f *GenesysFake) RevokeTokens() {
	f.g.mu.Lock()
	clear(f.g.tokens)
	f.g.mu.Unlock()
}

// TokensIssued counts the access tokens the login host has issued.
func (f *GenesysFake) TokensIssued() int {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	return f.g.issued
}

// DomainID returns the chat store id an id the fake made up stands for: a
// conversation's session, an acd participant's live chat, a message's,
// user's or external contact's domain id.
func (f *GenesysFake) DomainID(platformID string) (string, bool) {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	id, ok := f.g.domain[platformID]
	return id, ok
}

// LoadCase adds the native case in dir, a person card for every email its
// users, external contacts and participant attributes name, and the
// conversation's chat-session card. It returns the conversation id.
func (f *GenesysFake) LoadCase(dir string) (string, error) {
	id, emails, err := f.load(dir)
	if err != nil {
		return "", err
	}
	for _, e := range emails {
		if _, err := f.s.AddPerson(e[0], e[1]); err != nil {
			return "", err
		}
	}
	if _, err := f.s.CreateChatSessionCard(id); err != nil {
		return "", err
	}
	return id, nil
}

// UpdateCase replaces a loaded native case with the files in dir, as the
// conversation looks later; it adds no cards.
func (f *GenesysFake) UpdateCase(dir string) error {
	_, _, err := f.load(dir)
	return err
}

// load reads a native case and returns its conversation id and the
// (name, email) of its people.
func (f *GenesysFake) load(dir string) (string, [][2]string, error) {
	fail := func(err error) (string, [][2]string, error) {
		return "", nil, fmt.Errorf("sandbox: genesys case %s: %w", dir, err)
	}
	conv, err := os.ReadFile(filepath.Join(dir, "conversation.json"))
	if err != nil {
		return fail(err)
	}
	var head nativeHead
	if err := json.Unmarshal(conv, &head); err != nil || head.ID == "" {
		return fail(fmt.Errorf("conversation.json: %v (an id is required)", err))
	}
	n := &nativeConversation{conversation: conv, messages: map[string]json.RawMessage{},
		start: head.StartTime, end: head.EndTime, messageType: gMessageType}
	var people [][2]string
	for _, p := range head.Participants {
		for k, v := range p.Attributes {
			if strings.Contains(strings.ToLower(k), "mail") && strings.Contains(v, "@") {
				people = append(people, [2]string{p.Name, v})
			}
		}
		for _, m := range p.Messages {
			if p.Purpose == "customer" && m.Type != "" {
				n.messageType = m.Type
			}
		}
	}
	var msgs []json.RawMessage
	if err := readJSONFile(filepath.Join(dir, "messages.json"), &msgs); err != nil {
		return fail(err)
	}
	for _, raw := range msgs {
		var m struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
			return fail(fmt.Errorf("messages.json: a message without id"))
		}
		n.messages[m.ID] = raw
	}
	users, err := f.loadUsers(dir)
	if err != nil {
		return fail(err)
	}
	contacts, err := f.loadContacts(dir)
	if err != nil {
		return fail(err)
	}
	f.g.mu.Lock()
	f.g.native[head.ID] = n
	f.g.mu.Unlock()
	return head.ID, append(append(people, users...), contacts...), nil
}

func (f *GenesysFake) loadUsers(dir string) ([][2]string, error) {
	var raws []json.RawMessage
	if err := readJSONFile(filepath.Join(dir, "users.json"), &raws); err != nil {
		return nil, err
	}
	var people [][2]string
	for _, raw := range raws {
		var u gUser
		if err := json.Unmarshal(raw, &u); err != nil || u.ID == "" {
			return nil, errors.New("users.json: a user without id")
		}
		u.raw = raw
		f.g.mu.Lock()
		f.g.users[u.ID] = u
		f.g.mu.Unlock()
		if u.Email != "" {
			people = append(people, [2]string{u.Name, u.Email})
		}
	}
	return people, nil
}

func (f *GenesysFake) loadContacts(dir string) ([][2]string, error) {
	var raws []json.RawMessage
	if err := readJSONFile(filepath.Join(dir, "externalcontacts.json"), &raws); err != nil {
		return nil, err
	}
	var people [][2]string
	for _, raw := range raws {
		var c struct {
			ID            string `json:"id"`
			FirstName     string `json:"firstName"`
			LastName      string `json:"lastName"`
			WorkEmail     string `json:"workEmail"`
			PersonalEmail string `json:"personalEmail"`
		}
		if err := json.Unmarshal(raw, &c); err != nil || c.ID == "" {
			return nil, errors.New("externalcontacts.json: a contact without id")
		}
		f.g.mu.Lock()
		f.g.contacts[c.ID] = gContact{ID: c.ID, raw: raw}
		f.g.mu.Unlock()
		name := strings.TrimSpace(c.FirstName + " " + c.LastName)
		for _, e := range []string{c.WorkEmail, c.PersonalEmail} {
			if e != "" {
				people = append(people, [2]string{name, e})
			}
		}
	}
	return people, nil
}

// readJSONFile decodes file into v; a missing file leaves v alone.
func readJSONFile(file string, v any) error {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return nil
}

// The analytics conversation details query (Conversationquery) as the
// fake reads it.
type gQuery struct {
	Interval       string         `json:"interval"`
	Order          string         `json:"order"`
	OrderBy        string         `json:"orderBy"`
	Paging         *gPaging       `json:"paging"`
	SegmentFilters []gQueryFilter `json:"segmentFilters"`
}

type gPaging struct {
	PageSize   int `json:"pageSize"`
	PageNumber int `json:"pageNumber"`
}

type gQueryFilter struct {
	Type       string            `json:"type"`
	Clauses    []gQueryFilter    `json:"clauses"`
	Predicates []gQueryPredicate `json:"predicates"`
}

type gQueryPredicate struct {
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
}

// gHead is a conversation as the details query sees it.
type gHead struct {
	ConversationID       string `json:"conversationId"`
	ConversationStart    gTime  `json:"conversationStart"`
	ConversationEnd      *gTime `json:"conversationEnd,omitempty"`
	OriginatingDirection string `json:"originatingDirection"`
	messageType          string
}

// handleQuery serves POST /api/v2/analytics/conversations/details/query:
// the conversations started on a day the interval touches (as the vendor
// documents it), filtered by mediaType and messageType segment predicates,
// ordered by conversationStart and paged by pageSize (at most 100, default
// 25) and pageNumber (from 1).
func (g *genesysPlatform) handleQuery(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var q gQuery
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, genesysMaxQueryBody)).Decode(&q); err != nil {
			writeGenesysError(w, http.StatusBadRequest, "bad.request", "The query is not valid JSON.")
			return
		}
		from, to, ok := parseInterval(q.Interval)
		size, page := genesysDefaultPage, 1
		if q.Paging != nil {
			size, page = cmp.Or(q.Paging.PageSize, size), cmp.Or(q.Paging.PageNumber, page)
		}
		switch {
		case !ok:
			writeGenesysError(w, http.StatusBadRequest, "bad.request", "interval must be <start>/<end> in ISO-8601.")
			return
		case size < 1 || size > genesysMaxPageSize || page < 1:
			writeGenesysError(w, http.StatusBadRequest, "bad.request", "pageSize must be 1..100 and pageNumber at least 1.")
			return
		}
		dayFrom := from.UTC().Truncate(24 * time.Hour)
		dayTo := to.UTC().Add(-time.Nanosecond).Truncate(24 * time.Hour).Add(24 * time.Hour)
		var hits []gHead
		for _, h := range g.heads(s) {
			st := time.Time(h.ConversationStart)
			if !st.Before(dayFrom) && st.Before(dayTo) && matchFilters(q.SegmentFilters, h) {
				hits = append(hits, h)
			}
		}
		slices.SortFunc(hits, func(a, b gHead) int {
			return cmp.Or(time.Time(a.ConversationStart).Compare(time.Time(b.ConversationStart)),
				strings.Compare(a.ConversationID, b.ConversationID))
		})
		if strings.EqualFold(q.Order, "desc") {
			slices.Reverse(hits)
		}
		out := map[string]any{"totalHits": len(hits)}
		if lo := (page - 1) * size; lo < len(hits) {
			out["conversations"] = hits[lo:min(lo+size, len(hits))]
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func parseInterval(v string) (time.Time, time.Time, bool) {
	a, b, ok := strings.Cut(v, "/")
	from, err1 := time.Parse(time.RFC3339Nano, a)
	to, err2 := time.Parse(time.RFC3339Nano, b)
	return from, to, ok && err1 == nil && err2 == nil && from.Before(to)
}

// heads lists every conversation the fake knows.
func (g *genesysPlatform) heads(s *Server) []gHead {
	c := s.chat
	c.mu.RLock()
	type head struct {
		id         string
		start, end time.Time
	}
	var sessions []head
	for _, cs := range c.sessions {
		h := head{id: cs.sess.ID, start: cs.sess.StartedAt}
		if cs.sess.Ended() {
			h.end = cs.sess.EndedAt
			if h.end.IsZero() {
				sent := make([]aggregate.Message, len(cs.msgs))
				for i, m := range cs.msgs {
					sent[i].SentAt = time.Unix(0, m.sentAt)
				}
				h.end = latest(&cs.sess, sent)
			}
		}
		sessions = append(sessions, h)
	}
	c.mu.RUnlock()
	var out []gHead
	for _, h := range sessions {
		out = append(out, gHead{ConversationID: g.sessionID(h.id), ConversationStart: gTime(ms(h.start)),
			ConversationEnd: gtime(ms(h.end)), OriginatingDirection: "inbound", messageType: gMessageType})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, n := range g.native {
		out = append(out, gHead{ConversationID: id, ConversationStart: gTime(n.start), ConversationEnd: gtime(n.end),
			OriginatingDirection: "inbound", messageType: n.messageType})
	}
	return out
}

// matchFilters applies the segment filters the fake understands: every
// conversation is a message conversation of its messageType. Predicates
// of other dimensions match.
func matchFilters(filters []gQueryFilter, h gHead) bool {
	for _, f := range filters {
		if !matchFilter(f, h) {
			return false
		}
	}
	return true
}

func matchFilter(f gQueryFilter, h gHead) bool {
	var results []bool
	for _, p := range f.Predicates {
		switch p.Dimension {
		case "mediaType":
			results = append(results, p.Value == "message")
		case "messageType":
			results = append(results, p.Value == h.messageType)
		default:
			results = append(results, true)
		}
	}
	for _, c := range f.Clauses {
		results = append(results, matchFilter(c, h))
	}
	if len(results) == 0 {
		return true
	}
	if strings.EqualFold(f.Type, "or") {
		return slices.Contains(results, true)
	}
	return !slices.Contains(results, false)
}
