package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PlatformGenesys is Genesys Cloud (SPEC §4.3.2).
const PlatformGenesys = "genesys-cloud"

// Paths of the Genesys Cloud fake. The API host's /api/v2 is served under
// GenesysPrefix and the login host's /oauth/token under GenesysLoginPath:
// chat.base_url is <base>GenesysPrefix and chat.login_url
// <base>GenesysLoginPath.
const (
	GenesysPrefix    = "/genesys"
	GenesysLoginPath = GenesysPrefix + "/login"
)

// GenesysClientID is the OAuth client id the fake accepts; the client
// secret is Options.ChatToken.
const GenesysClientID = "sandbox-genesys-client"

// DefaultGenesysTokenTTL is the lifetime of the fake's access tokens, the
// vendor's expires_in of 86399 seconds.
const DefaultGenesysTokenTTL = 86399 * time.Second

// Route names of the Genesys Cloud fake, the keys of Counts.
const (
	RouteGenesysToken           = "POST /genesys/login/oauth/token"
	RouteGenesysGetConversation = "GET /genesys/api/v2/conversations/{id}"
	RouteGenesysMessagesBulk    = "POST /genesys/api/v2/conversations/messages/{id}/messages/bulk"
	RouteGenesysGetUser         = "GET /genesys/api/v2/users/{id}"
	RouteGenesysGetContact      = "GET /genesys/api/v2/externalcontacts/contacts/{id}"
	RouteGenesysQuery           = "POST /genesys/api/v2/analytics/conversations/details/query"
)

// Vendor limits the fake enforces.
const (
	genesysMaxBulkIDs   = 1000
	genesysMaxPageSize  = 100
	genesysDefaultPage  = 25
	genesysMaxQueryBody = 1 << 16
)

// genesysPlatform fakes the subset of the Genesys Cloud Platform API v2 the
// adapter reads (SPEC §4.3.2): the chat store's sessions as web messaging
// conversations, translated deterministically (genesys_wire.go), plus
// conversations loaded in the vendor's own JSON (genesys_native.go).
type genesysPlatform struct {
	mu sync.Mutex
	// domain maps every id the fake made up (conversations, participants,
	// messages, users, contacts) to the chat store's id it stands for.
	domain map[string]string
	// convs maps conversation ids to chat store session ids.
	convs    map[string]string
	users    map[string]gUser
	contacts map[string]gContact
	native   map[string]*nativeConversation
	tokens   map[string]time.Time
	tokenTTL time.Duration
	issued   int
}

func newGenesysPlatform() *genesysPlatform {
	return &genesysPlatform{
		domain:   map[string]string{},
		convs:    map[string]string{},
		users:    map[string]gUser{},
		contacts: map[string]gContact{},
		native:   map[string]*nativeConversation{},
		tokens:   map[string]time.Time{},
		tokenTTL: DefaultGenesysTokenTTL,
	}
}

func (g *genesysPlatform) prefix() string { return GenesysPrefix }

func (g *genesysPlatform) routes(s *Server) {
	open := func(h http.HandlerFunc) http.Handler { return h }
	auth := func(h http.HandlerFunc) http.Handler { return g.auth(s, h) }
	s.handleChat("POST", "/login/oauth/token", RouteGenesysToken, open, g.handleToken(s))
	s.handleChat("GET", "/api/v2/conversations/{id}", RouteGenesysGetConversation, auth, g.handleConversation(s))
	s.handleChat("POST", "/api/v2/conversations/messages/{id}/messages/bulk", RouteGenesysMessagesBulk, auth, g.handleBulk(s))
	s.handleChat("GET", "/api/v2/users/{id}", RouteGenesysGetUser, auth, g.handleUser)
	s.handleChat("GET", "/api/v2/externalcontacts/contacts/{id}", RouteGenesysGetContact, auth, g.handleContact)
	s.handleChat("POST", "/api/v2/analytics/conversations/details/query", RouteGenesysQuery, auth, g.handleQuery(s))
}

func (g *genesysPlatform) chatConfig(s *Server, base string) string {
	return fmt.Sprintf("  base_url: %s%s\n  login_url: %s%s\n  client_id: %s\n  client_secret: %s\n",
		base, GenesysPrefix, base, GenesysLoginPath, GenesysClientID, s.opts.ChatToken)
}

// writeGenesysError answers the Platform API's error body.
func writeGenesysError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"message": msg, "code": code, "status": status,
		"contextId": newGenesysToken()[:32], "details": []any{}, "errors": []any{},
	})
}

// handleToken serves POST {login}/oauth/token: the client credentials
// grant with the credentials in a Basic header.
func (g *genesysPlatform) handleToken(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		oauthError := func(status int, code, desc string) {
			writeJSON(w, status, map[string]string{"error": code, "description": desc, "error_description": desc})
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<14)
		if err := r.ParseForm(); err != nil {
			oauthError(http.StatusBadRequest, "invalid_request", "unreadable form")
			return
		}
		if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
			oauthError(http.StatusBadRequest, "unsupported_grant_type", "grant type "+strconv.Quote(gt)+" is not supported")
			return
		}
		id, secret, ok := r.BasicAuth()
		okID := subtle.ConstantTimeCompare([]byte(id), []byte(GenesysClientID))
		okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ChatToken))
		if !ok || okID&okSecret != 1 {
			oauthError(http.StatusUnauthorized, "invalid_client", "client not found or wrong secret")
			return
		}
		tok := newGenesysToken()
		g.mu.Lock()
		ttl := g.tokenTTL
		g.tokens[tok] = s.now().Add(ttl)
		g.issued++
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": tok, "token_type": "bearer", "expires_in": int64(ttl / time.Second),
		})
	}
}

func newGenesysToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// auth refuses API requests without a live access token, the way the
// Platform API answers an expired or unknown one.
func (g *genesysPlatform) auth(s *Server, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		g.mu.Lock()
		exp, known := g.tokens[tok]
		g.mu.Unlock()
		if !ok || !known || !s.now().Before(exp) {
			writeGenesysError(w, http.StatusUnauthorized, "bad.credentials", "Invalid login credentials.")
			return
		}
		h(w, r)
	})
}

// handleConversation serves GET /api/v2/conversations/{conversationId}.
func (g *genesysPlatform) handleConversation(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if n := g.nativeConv(id); n != nil {
			writeRawJSON(w, n.conversation)
			return
		}
		v, ok := g.view(s, id)
		if !ok {
			writeGenesysError(w, http.StatusNotFound, "not.found", "The requested conversation could not be found.")
			return
		}
		writeJSON(w, http.StatusOK, v.conv)
	}
}

// handleBulk serves POST /api/v2/conversations/messages/{conversationId}/messages/bulk:
// the bodies of the message ids in the request, in the vendor's
// TextMessageListing. Ids the conversation does not have are left out.
func (g *genesysPlatform) handleBulk(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var ids []string
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, genesysMaxBulkIDs*300)).Decode(&ids); err != nil {
			writeGenesysError(w, http.StatusBadRequest, "bad.request", "The request body must be an array of message ids.")
			return
		}
		if len(ids) > genesysMaxBulkIDs {
			writeGenesysError(w, http.StatusBadRequest, "bad.request", "At most 1000 message ids may be requested.")
			return
		}
		id := r.PathValue("id")
		var bodies map[string]json.RawMessage
		if n := g.nativeConv(id); n != nil {
			bodies = n.messages
		} else if v, ok := g.view(s, id); ok {
			bodies = v.bodies
		} else {
			writeGenesysError(w, http.StatusNotFound, "not.found", "The requested conversation could not be found.")
			return
		}
		entities := []json.RawMessage{}
		seen := map[string]bool{}
		for _, mid := range ids {
			if b, ok := bodies[mid]; ok && !seen[mid] {
				seen[mid] = true
				entities = append(entities, b)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"entities": entities, "pageSize": len(entities), "pageNumber": 1, "total": len(entities), "pageCount": 1,
		})
	}
}

// handleUser serves GET /api/v2/users/{userId}.
func (g *genesysPlatform) handleUser(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	u, ok := g.users[r.PathValue("id")]
	g.mu.Unlock()
	if !ok {
		writeGenesysError(w, http.StatusNotFound, "not.found", "The requested user could not be found.")
		return
	}
	if u.raw != nil {
		writeRawJSON(w, u.raw)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// handleContact serves GET /api/v2/externalcontacts/contacts/{contactId}.
func (g *genesysPlatform) handleContact(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	c, ok := g.contacts[r.PathValue("id")]
	g.mu.Unlock()
	if !ok {
		writeGenesysError(w, http.StatusNotFound, "not.found", "The requested contact could not be found.")
		return
	}
	if c.raw != nil {
		writeRawJSON(w, c.raw)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func writeRawJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// remember records that the made-up id platformID stands for domainID;
// the caller holds g.mu.
func (g *genesysPlatform) remember(platformID, domainID string) {
	g.domain[platformID] = domainID
}

// sessionID is the conversation id of chat store session domainID; a
// loaded native conversation is its own id.
func (g *genesysPlatform) sessionID(domainID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.native[domainID] != nil {
		return domainID
	}
	id := genesysUUID("conversation", domainID)
	g.convs[id] = domainID
	g.remember(id, domainID)
	return id
}

// sessionOf returns the chat store session of conversation convID.
func (g *genesysPlatform) sessionOf(s *Server, convID string) (string, bool) {
	g.mu.Lock()
	id, ok := g.convs[convID]
	g.mu.Unlock()
	if ok {
		return id, true
	}
	// A session added since the last lookup: learn every session's id.
	s.chat.mu.RLock()
	ids := make([]string, 0, len(s.chat.sessions))
	for id := range s.chat.sessions {
		ids = append(ids, id)
	}
	s.chat.mu.RUnlock()
	for _, id := range ids {
		g.sessionID(id)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	id, ok = g.convs[convID]
	return id, ok
}

// genesysUUID derives a version-5-style UUID from kind and parts: the ids
// the fake makes up are the same in every run.
func genesysUUID(kind string, parts ...string) string {
	h := genesysHash(kind, parts...)
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// genesysMessageID derives a message id: 32 hex digits, as the vendor's
// web messaging message ids are.
func genesysMessageID(parts ...string) string {
	h := genesysHash("message", parts...)
	return hex.EncodeToString(h[:16])
}

func genesysHash(kind string, parts ...string) []byte {
	return hashSum("syncworker-sandbox-genesys\x00" + kind + "\x00" + strings.Join(parts, "\x00"))
}

// chatRoutes: Genesys Cloud has no change listing (SPEC §4.3.2); the
// analytics query is backfill's only.
func (*genesysPlatform) chatRoutes() ChatRoutes {
	return ChatRoutes{Session: RouteGenesysGetConversation, Messages: RouteGenesysMessagesBulk,
		Others: []string{RouteGenesysToken, RouteGenesysGetUser, RouteGenesysGetContact}}
}

// writeChatError answers an injected fault in the Platform API's error
// body, with the code Genesys Cloud gives that status.
func (*genesysPlatform) writeChatError(w http.ResponseWriter, status int, msg string) {
	code := map[int]string{
		http.StatusBadRequest:          "bad.request",
		http.StatusUnauthorized:        "authentication.required",
		http.StatusForbidden:           "missing.permissions",
		http.StatusNotFound:            "not.found",
		http.StatusTooManyRequests:     "too.many.requests",
		http.StatusInternalServerError: "internal.server.error",
		http.StatusBadGateway:          "bad.gateway",
		http.StatusServiceUnavailable:  "service.unavailable",
		http.StatusGatewayTimeout:      "gateway.timeout",
	}[status]
	if code == "" {
		code = "error"
	}
	writeGenesysError(w, status, code, msg)
}
