package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// PlatformSuperOffice fakes SuperOffice CRM Online's chat (SPEC §4.3.1).
const PlatformSuperOffice = "superoffice"

// SuperOfficePrefix is the WebAPI root of the fake's tenant, as
// https://online.superoffice.com/Cust12345/api/v1 is a real one's.
const SuperOfficePrefix = "/superoffice/Cust12345/api/v1"

// SuperOfficeAppToken is the SO-AppToken the fake's tenant expects: with
// an SOTicket always, with a Bearer token whenever one is sent.
const SuperOfficeAppToken = "sandbox-so-app-token"

// Route names of the SuperOffice fake, the keys of Counts and
// Request.Route.
const (
	RouteSOListSessions = "GET /superoffice/ChatSession"
	RouteSOGetSession   = "GET /superoffice/ChatSession/{id}"
	RouteSOGetMessages  = "GET /superoffice/ChatSession/{id}/Messages"
	RouteSOGetAssociate = "GET /superoffice/Associate/{id}"
	RouteSOGetPerson    = "GET /superoffice/Person/{id}"
)

// soPersonBase sets the fake's PersonIds apart from its AssociateIds.
const soPersonBase = 10000

// superOfficePlatform fakes SuperOffice's REST WebAPI under
// SuperOfficePrefix: the chat store's sessions rendered as SuperOffice has
// them (superoffice_view.go), and sessions loaded in SuperOffice's own
// JSON (superoffice_native.go). It keeps the integers it gives the store's
// sessions and agents: SuperOffice numbers both.
type superOfficePlatform struct {
	mu      sync.Mutex
	ids     map[string]int64 // chat store id → ChatSessionId
	domains map[int64]string // and back
	nextID  int64
	assocs  map[soAgentKey]int64
	agents  map[int64]soAgent
	native  map[int64]*soNative
	// nativeAssocs and nativePersons are the Associate and Person records
	// of loaded cases, as loaded.
	nativeAssocs  map[int64]json.RawMessage
	nativePersons map[int64]json.RawMessage
}

type soAgentKey struct{ id, name, email string }

type soAgent struct{ name, email string }

func newSuperOfficePlatform() *superOfficePlatform {
	return &superOfficePlatform{ids: map[string]int64{}, domains: map[int64]string{}, nextID: 1,
		assocs: map[soAgentKey]int64{}, agents: map[int64]soAgent{}, native: map[int64]*soNative{},
		nativeAssocs: map[int64]json.RawMessage{}, nativePersons: map[int64]json.RawMessage{}}
}

func (*superOfficePlatform) prefix() string { return SuperOfficePrefix }

func (p *superOfficePlatform) routes(s *Server) {
	auth := p.auth(s)
	s.handleChat("GET", "/ChatSession", RouteSOListSessions, auth, func(w http.ResponseWriter, r *http.Request) {
		p.handleList(s, w, r)
	})
	s.handleChat("GET", "/ChatSession/{id}", RouteSOGetSession, auth, func(w http.ResponseWriter, r *http.Request) {
		p.handleSession(s, w, r)
	})
	s.handleChat("GET", "/ChatSession/{id}/Messages", RouteSOGetMessages, auth, func(w http.ResponseWriter, r *http.Request) {
		p.handleMessages(s, w, r)
	})
	s.handleChat("GET", "/Associate/{id}", RouteSOGetAssociate, auth, p.handleAssociate)
	s.handleChat("GET", "/Person/{id}", RouteSOGetPerson, auth, p.handlePerson)
}

func (*superOfficePlatform) chatConfig(s *Server, base string) string {
	return fmt.Sprintf("  base_url: %s%s\n  token: %s\n  auth_scheme: SOTicket\n  app_token: %s\n",
		base, SuperOfficePrefix, s.opts.ChatToken, SuperOfficeAppToken)
}

func (p *superOfficePlatform) sessionID(domainID string) string {
	return strconv.FormatInt(p.platformID(domainID), 10)
}

// platformID is the ChatSessionId of the chat store's session domainID,
// given at first sight.
func (p *superOfficePlatform) platformID(domainID string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.platformIDLocked(domainID)
}

func (p *superOfficePlatform) platformIDLocked(domainID string) int64 {
	if n, ok := p.ids[domainID]; ok {
		return n
	}
	for p.domains[p.nextID] != "" {
		p.nextID++
	}
	n := p.nextID
	p.ids[domainID], p.domains[n] = n, domainID
	p.nextID++
	return n
}

// associateOf is the AssociateId of agent a, given at first sight; each
// spelling of a person is an associate of its own, so that what is read
// back is what was given.
func (p *superOfficePlatform) associateOf(a aggregate.Agent) int64 {
	k := soAgentKey{a.ID, a.Name, a.Email}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n, ok := p.assocs[k]; ok {
		return n
	}
	n := int64(100 + len(p.assocs))
	for p.nativeAssocs[n] != nil || p.agents[n] != (soAgent{}) {
		n++
	}
	p.assocs[k], p.agents[n] = n, soAgent{a.Name, a.Email}
	return n
}

func (p *superOfficePlatform) express(s aggregate.Session, msgs []aggregate.Message) (aggregate.Session, []aggregate.Message) {
	v := p.view(s, msgs)
	return v.sess, v.messages()
}

// auth accepts "Authorization: Bearer <token>" or "SOTicket <token>" with
// the chat token, and SO-AppToken: required with a ticket, checked when
// sent.
func (p *superOfficePlatform) auth(s *Server) func(http.HandlerFunc) http.Handler {
	return func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			app := r.Header.Get("SO-AppToken")
			okTok := subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.ChatToken)) == 1
			okApp := app == "" || subtle.ConstantTimeCompare([]byte(app), []byte(SuperOfficeAppToken)) == 1
			switch {
			case !okTok || !okApp:
				soError(w, http.StatusUnauthorized, "Invalid ticket, token or application token")
			case strings.EqualFold(scheme, "SOTicket") && app == "":
				soError(w, http.StatusUnauthorized, "An SOTicket needs the SO-AppToken header")
			case strings.EqualFold(scheme, "SOTicket"), strings.EqualFold(scheme, "Bearer"):
				h(w, r)
			default:
				soError(w, http.StatusUnauthorized, "Authorization must be Bearer or SOTicket")
			}
		})
	}
}

// writeChatError answers an error of the fake's WebAPI, injected faults
// included, in SuperOffice's shape.
func (*superOfficePlatform) writeChatError(w http.ResponseWriter, status int, msg string) {
	soError(w, status, msg)
}

// soErrorTypes are the ErrorType the fake names per status; SuperOffice's
// reference shows SoNotFoundException for a 404 and leaves the others
// open.
var soErrorTypes = map[int]string{
	http.StatusBadRequest:      "SoArgumentException",
	http.StatusUnauthorized:    "SoAuthenticationException",
	http.StatusNotFound:        "SoNotFoundException",
	http.StatusTooManyRequests: "SoTooManyRequestsException",
}

// soError writes SuperOffice's error body:
// {"Error":true,"ErrorType":…,"ErrorMessage":…,"ErrorSource":…}.
func soError(w http.ResponseWriter, status int, msg string) {
	typ, ok := soErrorTypes[status]
	if !ok {
		typ = "SoServerException"
	}
	writeJSON(w, status, map[string]any{"Error": true, "ErrorType": typ, "ErrorMessage": msg,
		"ErrorSource": "SuperOffice.Services.Implementation"})
}

// pathID reads the {id} of a request: a positive integer.
func pathID(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 32)
	return n, err == nil && n > 0
}

// lookup returns the native session n, or the rendering of the chat
// store's session with ChatSessionId n.
func (p *superOfficePlatform) lookup(s *Server, n int64) (*soNative, *soView, bool) {
	p.mu.Lock()
	nat, domain := p.native[n], p.domains[n]
	p.mu.Unlock()
	if nat != nil {
		return nat, nil, true
	}
	if domain == "" {
		return nil, nil, false
	}
	sess, msgs, ok := s.Session(domain)
	if !ok {
		return nil, nil, false
	}
	v := p.view(sess, msgs)
	v.sess = sess // the entity renders the stored session
	return nil, &v, true
}

// handleSession serves GET /ChatSession/{id}.
func (p *superOfficePlatform) handleSession(s *Server, w http.ResponseWriter, r *http.Request) {
	n, ok := pathID(r)
	var nat *soNative
	var v *soView
	if ok {
		nat, v, ok = p.lookup(s, n)
	}
	switch {
	case !ok:
		soError(w, http.StatusNotFound, fmt.Sprintf("ChatSession id %s not found", r.PathValue("id")))
	case nat != nil:
		writeRaw(w, nat.session)
	default:
		writeJSON(w, http.StatusOK, p.entity(s, r, v))
	}
}

// handleMessages serves GET /ChatSession/{id}/Messages?after=.
func (p *superOfficePlatform) handleMessages(s *Server, w http.ResponseWriter, r *http.Request) {
	var after int64
	if a := r.URL.Query().Get("after"); a != "" {
		var err error
		if after, err = strconv.ParseInt(a, 10, 32); err != nil || after < 0 {
			soError(w, http.StatusBadRequest, "after must be a ChatMessageId")
			return
		}
	}
	n, ok := pathID(r)
	var nat *soNative
	var v *soView
	if ok {
		nat, v, ok = p.lookup(s, n)
	}
	switch {
	case !ok:
		soError(w, http.StatusNotFound, fmt.Sprintf("ChatSession id %s not found", r.PathValue("id")))
	case nat != nil:
		out := []json.RawMessage{}
		for i, m := range nat.messages {
			if nat.ids[i] > after {
				out = append(out, m)
			}
		}
		writeJSON(w, http.StatusOK, out)
	default:
		out := []soWireMessage{}
		for _, it := range v.items {
			if it.id > after {
				out = append(out, soWireMessage{ChatMessageID: it.id, ChatSessionID: v.pid, Type: it.typ,
					Message: it.text, Author: it.author, ReadByCustomer: 1, SpecialType: it.special,
					SpecialParam: it.param, WhenPosted: soStamp(it.posted)})
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// soStamp renders t as the WebAPI does: ISO 8601 with the zone's offset and
// up to seven fractional digits; null for none.
func soStamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := soTime(t).In(soZone).Format("2006-01-02T15:04:05.9999999Z07:00")
	return &s
}

type soWireMessage struct {
	ChatMessageID  int64   `json:"ChatMessageId"`
	ChatSessionID  int64   `json:"ChatSessionId"`
	Type           string  `json:"Type"`
	Message        string  `json:"Message"`
	Author         string  `json:"Author"`
	ReadByCustomer int     `json:"ReadByCustomer"`
	SpecialType    string  `json:"SpecialType"`
	SpecialParam   string  `json:"SpecialParam"`
	WhenPosted     *string `json:"WhenPosted"`
}

// soWireAssociate is an Associate carrier.
type soWireAssociate struct {
	AssociateID int64  `json:"AssociateId"`
	Name        string `json:"Name"`
	PersonID    int64  `json:"PersonId"`
	Rank        int    `json:"Rank"`
	Tooltip     string `json:"Tooltip"`
	Type        string `json:"Type"`
	GroupIdx    int    `json:"GroupIdx"`
	FullName    string `json:"FullName"`
	FormalName  string `json:"FormalName"`
	Deleted     bool   `json:"Deleted"`
	EjUserID    int64  `json:"EjUserId"`
	UserName    string `json:"UserName"`
}

func (p *superOfficePlatform) associate(n int64) (soWireAssociate, bool) {
	p.mu.Lock()
	a, ok := p.agents[n]
	p.mu.Unlock()
	if !ok {
		return soWireAssociate{}, false
	}
	return soWireAssociate{AssociateID: n, Name: initials(a.name), PersonID: n + soPersonBase, Rank: 1,
		Type: "InternalAssociate", FullName: a.name, FormalName: a.name, EjUserID: n, UserName: initials(a.name)}, true
}

// initials is an associate's short name ("ANN" style) made from a full name.
func initials(name string) string {
	var b strings.Builder
	for _, f := range strings.Fields(name) {
		r := []rune(f)
		b.WriteString(strings.ToUpper(string(r[0])))
	}
	return b.String()
}

// entity renders a session of the chat store as a ChatSessionEntity.
func (p *superOfficePlatform) entity(s *Server, r *http.Request, v *soView) map[string]any {
	sess := v.sess
	var user any
	if v.user != nil {
		a, _ := p.associate(v.user.assoc)
		user = a
	}
	first, last := "", ""
	for _, it := range v.items {
		if it.typ == "ToUser" || it.typ == "ToCustomer" {
			if first == "" {
				first = it.text
			}
			last = it.text
		}
	}
	self := fmt.Sprintf("%s%s/ChatSession/%d", origin(r), SuperOfficePrefix, v.pid)
	return map[string]any{
		"ChatSessionId": v.pid, "TopicId": 1, "User": user, "Person": nil,
		"CustomerAlias": "", "CustomerHost": "", "CustomerName": sess.Customer.Name, "CustomerEmail": sess.Customer.Email,
		"CustomerPhone": "", "CustomerConsented": false, "CustomerCompanyName": "",
		"Status": v.status, "FirstMessage": first, "LastMessage": last,
		"WhenRequested": soStamp(sess.StartedAt), "WhenStarted": soStamp(v.connected), "WhenEnded": soStamp(whenEnded(sess)),
		"WhenIdle": soStamp(v.idle(sess)), "WhenFetched": soStamp(v.idle(sess)),
		"SessionKey": "", "InitialQueuePos": 0, "AlertLevel": 0, "Rank": 0, "Flags": "",
		"Contact": nil, "Project": nil, "Sale": nil, "Ticket": nil, "TransferTo": nil,
		"ChatbotIsActive": v.chatbot, "Rating": 0, "TableRight": nil, "FieldProperties": map[string]any{},
		"_Links": map[string]string{"Self": self, "Archive": origin(r) + SuperOfficePrefix + "/ChatSession"},
	}
}

// origin is scheme://host of the request, as the WebAPI's own links begin.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleAssociate serves GET /Associate/{id}.
func (p *superOfficePlatform) handleAssociate(w http.ResponseWriter, r *http.Request) {
	n, ok := pathID(r)
	if ok {
		p.mu.Lock()
		raw := p.nativeAssocs[n]
		p.mu.Unlock()
		if raw != nil {
			writeRaw(w, raw)
			return
		}
		var a soWireAssociate
		if a, ok = p.associate(n); ok {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	soError(w, http.StatusNotFound, fmt.Sprintf("Associate id %s not found", r.PathValue("id")))
}

// handlePerson serves GET /Person/{id}.
func (p *superOfficePlatform) handlePerson(w http.ResponseWriter, r *http.Request) {
	n, ok := pathID(r)
	if ok {
		p.mu.Lock()
		raw := p.nativePersons[n]
		a, known := p.agents[n-soPersonBase]
		p.mu.Unlock()
		switch {
		case raw != nil:
			writeRaw(w, raw)
			return
		case known:
			emails := []map[string]string{}
			if a.email != "" {
				emails = append(emails, map[string]string{"Value": a.email, "StrippedValue": a.email, "Description": ""})
			}
			first, lastName, _ := strings.Cut(a.name, " ")
			writeJSON(w, http.StatusOK, map[string]any{"PersonId": n, "Firstname": first, "Lastname": lastName,
				"FullName": a.name, "Emails": emails, "IsAssociate": true})
			return
		}
	}
	soError(w, http.StatusNotFound, fmt.Sprintf("Person id %s not found", r.PathValue("id")))
}

// writeRaw answers 200 with a body as loaded.
func writeRaw(w http.ResponseWriter, raw json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
}

func (*superOfficePlatform) chatRoutes() ChatRoutes {
	return ChatRoutes{List: RouteSOListSessions, Session: RouteSOGetSession, Messages: RouteSOGetMessages,
		Others: []string{RouteSOGetAssociate, RouteSOGetPerson}}
}
