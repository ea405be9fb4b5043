package sandbox

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// cardOf converts c to the Go API's Card; the caller holds st.mu.
func (st *esmStore) cardOf(c *card) Card {
	out := Card{
		ID:       strconv.FormatInt(c.id, 10),
		Template: c.td.t.code,
		Folder:   c.folder,
		Name:     c.name(),
		Values:   make(map[string][]Value),
	}
	for i, vals := range c.vals {
		if len(vals) == 0 {
			continue
		}
		a := &c.td.t.attrs[i]
		vs := make([]Value, len(vals))
		for j, v := range vals {
			vs[j] = Value{Value: v.text, Code: v.code}
			if a.typ == TypeReference {
				vs[j] = Value{DataCardID: strconv.FormatInt(v.ref, 10)}
			}
		}
		out.Values[a.code] = vs
	}
	return out
}

// toRaw turns Go API values into wire objects for template t; unknown
// attributes stay for parseData to refuse.
func toRaw(t *template, data map[string][]Value) map[string]wireAttrIn {
	out := make(map[string]wireAttrIn, len(data))
	for code, vals := range data {
		typ := ""
		if _, a, ok := t.attr(code); ok {
			typ = a.typ
		}
		in := wireAttrIn{Values: make([]map[string]any, len(vals))}
		for i, v := range vals {
			in.Values[i] = v.raw(typ)
		}
		out[code] = in
	}
	return out
}

func joinErrors(errs []restError) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = errors.New(e.String())
	}
	return fmt.Errorf("sandbox: invalid card values: %w", errors.Join(out...))
}

// CreateCard creates a card of template in folder ("" is the template's
// first folder), validating data like POST /dc/{template}/data, and
// returns its id.
func (s *Server) CreateCard(template, folder string, data map[string][]Value) (string, error) {
	td, ok := s.esm.tmpls[template]
	if !ok {
		return "", fmt.Errorf("sandbox: unknown template %q", template)
	}
	st := s.esm
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.createFromValues(td, folder, data)
}

// createFromValues validates and creates a card; the caller holds st.mu.
func (st *esmStore) createFromValues(td *tmplData, folder string, data map[string][]Value) (string, error) {
	if folder == "" {
		folder = td.t.folders[0].code
	}
	vals, errs := st.parseData(td.t, toRaw(td.t, data))
	if len(errs) > 0 {
		return "", joinErrors(errs)
	}
	return strconv.FormatInt(st.create(td, folder, vals).id, 10), nil
}

// SetCard replaces the values of the given attributes of card id,
// validating them like PATCH; on error nothing changes.
func (s *Server) SetCard(id string, data map[string][]Value) error {
	st := s.esm
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.card(id)
	if c == nil {
		return fmt.Errorf("%w: %s", ErrCardNotFound, id)
	}
	vals, errs := st.parseData(c.td.t, toRaw(c.td.t, data))
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	for i, v := range vals {
		c.setAttr(i, v)
	}
	return nil
}

func (st *esmStore) card(id string) *card {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	return st.cards[n]
}

// CreateChatSessionCard creates a chat-session card the way the chatbot's
// createChatSession does: only the session id (as the chat platform knows
// the chat store's session sessionID) and "Is chat active?" set to the
// active value. It returns the card id.
func (s *Server) CreateChatSessionCard(sessionID string) (string, error) {
	a := s.opts.Attributes
	data := map[string][]Value{a.SessionID: {Text(s.plat.sessionID(sessionID))}, a.Active: {Static(s.opts.Active)}}
	for _, code := range []string{a.SessionID, a.Active} {
		if code == Omit {
			delete(data, code)
		}
	}
	return s.CreateCard(s.opts.Template, s.opts.Folder, data)
}

// AddPerson returns the id of the person card with email (compared
// case-insensitively), creating it with name when there is none.
func (s *Server) AddPerson(name, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", errors.New("sandbox: person without email")
	}
	td := s.esm.tmpls[s.opts.PersonTemplate]
	i, _, ok := td.t.attr(s.opts.PersonEmail)
	if !ok {
		return "", errors.New("sandbox: person template without email attribute")
	}
	st := s.esm
	st.mu.Lock()
	defer st.mu.Unlock()
	if found, _ := st.list(td, []cond{{attr: i, value: email, lower: strings.ToLower(email)}}, 0, 1); len(found) > 0 {
		return strconv.FormatInt(found[0].id, 10), nil
	}
	data := map[string][]Value{s.opts.PersonName: {Text(name)}, s.opts.PersonEmail: {Text(email)}}
	if name == "" || s.opts.PersonName == Omit {
		delete(data, s.opts.PersonName)
	}
	return st.createFromValues(td, s.opts.PersonFolder, data)
}

// findBy returns the cards of template whose attribute attr equals v
// (case-insensitively), ascending by id.
func (s *Server) findBy(template, attr, v string) []Card {
	td, ok := s.esm.tmpls[template]
	if !ok {
		return nil
	}
	i, _, ok := td.t.attr(attr)
	if !ok {
		return nil
	}
	st := s.esm
	st.mu.RLock()
	defer st.mu.RUnlock()
	cards, _ := st.list(td, []cond{{attr: i, value: v, lower: strings.ToLower(v)}}, 0, len(td.ids)+1)
	out := make([]Card, len(cards))
	for j, c := range cards {
		out[len(cards)-1-j] = st.cardOf(c)
	}
	return out
}

// PersonByEmail returns the newest person card with email, compared
// case-insensitively.
func (s *Server) PersonByEmail(email string) (Card, bool) {
	return last(s.findBy(s.opts.PersonTemplate, s.opts.PersonEmail, strings.TrimSpace(email)))
}

// CardBySession returns the newest chat-session card holding sessionID.
func (s *Server) CardBySession(sessionID string) (Card, bool) {
	return last(s.CardsBySession(sessionID))
}

// CardsBySession returns every chat-session card holding the chat store's
// session sessionID (as its platform knows it), ascending by id; more than
// one means a duplicate was created.
func (s *Server) CardsBySession(sessionID string) []Card {
	return s.findBy(s.opts.Template, s.opts.Attributes.SessionID, s.plat.sessionID(sessionID))
}

func last(cards []Card) (Card, bool) {
	if len(cards) == 0 {
		return Card{}, false
	}
	return cards[len(cards)-1], true
}

// Card returns the card with id, of any template.
func (s *Server) Card(id string) (Card, bool) {
	st := s.esm
	st.mu.RLock()
	defer st.mu.RUnlock()
	c := st.card(id)
	if c == nil {
		return Card{}, false
	}
	return st.cardOf(c), true
}

// Cards returns every card of template, ascending by id.
func (s *Server) Cards(template string) []Card {
	td, ok := s.esm.tmpls[template]
	if !ok {
		return nil
	}
	st := s.esm
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]Card, len(td.ids))
	for i, id := range td.ids {
		out[i] = st.cardOf(st.cards[id])
	}
	return out
}

// SessionCards returns every chat-session card, ascending by id.
func (s *Server) SessionCards() []Card { return s.Cards(s.opts.Template) }

// Persons returns every person card, ascending by id.
func (s *Server) Persons() []Card { return s.Cards(s.opts.PersonTemplate) }

// DeleteCard removes a card; ESM then answers 404 for it. References to it
// stay on other cards. It reports whether the card existed.
func (s *Server) DeleteCard(id string) bool {
	st := s.esm
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.card(id)
	if c != nil {
		st.delete(c)
	}
	return c != nil
}

// Templates returns the template codes the ESM serves.
func (s *Server) Templates() []string {
	return slices.Sorted(maps.Keys(s.esm.tmpls))
}

// SetMaxTextLength changes Options.MaxTextLength while the server runs.
func (s *Server) SetMaxTextLength(n int) {
	s.esm.mu.Lock()
	s.esm.maxText = n
	s.esm.mu.Unlock()
}
