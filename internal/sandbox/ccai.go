package sandbox

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// PlatformCCAI fakes Google Cloud CCAI Platform (SPEC §4.3.3): the Apps
// API's GET /chats/{id}, the Manager API's agents, signed QM chat events
// posted to a webhook, and transcript files dropped into a directory.
const PlatformCCAI = "ccai-platform"

// CCAIPrefix is the fake tenant's host root: the Apps API is served under
// CCAIPrefix+"/apps/api/v1", the Manager API under
// CCAIPrefix+"/manager/api/v1", as https://<subdomain>.<domain>/ serves
// both.
const CCAIPrefix = "/ccai"

// CCAISubdomain is the HTTP Basic user the fake accepts (the password is
// the chat token), and CCAIEventsSecret the secret it signs events with.
const (
	CCAISubdomain    = "sandbox"
	CCAIEventsSecret = "sandbox-ccai-events-secret"
)

// Route names of the CCAI Platform fake, the keys of Counts and
// Request.Route.
const (
	RouteCCAIGetChat  = "GET /ccai/chats/{id}"
	RouteCCAIGetAgent = "GET /ccai/agents/{id}"
)

// ccaiPlatform renders the chat store's sessions as CCAI Platform has
// them. Chats and agents are numbered at first sight, as CCAI numbers
// both.
type ccaiPlatform struct {
	mu      sync.Mutex
	ids     map[string]int64 // chat store id → chat_id
	domains map[int64]string
	nextID  int64
	agents  map[ccaiAgentKey]int64
	people  map[int64]ccaiAgentKey
	// dir is where transcripts are dropped; made on first use unless
	// Options.TranscriptsDir names it (then madeDir is set, and Close
	// removes it).
	dir     string
	madeDir bool
	// hook, when set, receives the events; posted remembers the events
	// each chat was sent, written the transcripts dropped.
	hook    *ccaiWebhook
	posted  map[string]map[string]bool
	written map[string]bool
	faults  CCAIFaults
	stats   CCAIStats
}

type ccaiAgentKey struct{ name, email string }

func newCCAIPlatform() *ccaiPlatform {
	return &ccaiPlatform{ids: map[string]int64{}, domains: map[int64]string{}, nextID: 1,
		agents: map[ccaiAgentKey]int64{}, people: map[int64]ccaiAgentKey{},
		posted: map[string]map[string]bool{}, written: map[string]bool{}}
}

func (*ccaiPlatform) prefix() string { return CCAIPrefix }

func (p *ccaiPlatform) routes(s *Server) {
	auth := func(h http.HandlerFunc) http.Handler { return p.auth(s, h) }
	s.handleChat("GET", "/apps/api/v1/chats/{id}", RouteCCAIGetChat, auth, func(w http.ResponseWriter, r *http.Request) {
		p.handleChat(s, w, r)
	})
	s.handleChat("GET", "/manager/api/v1/agents/{id}", RouteCCAIGetAgent, auth, p.handleAgent)
}

func (p *ccaiPlatform) chatConfig(s *Server, base string) string {
	cfg := fmt.Sprintf("  base_url: %s%s/apps/api/v1\n  subdomain: %s\n  token: %s\n  transcripts_dir: %s\n",
		base, CCAIPrefix, CCAISubdomain, s.opts.ChatToken, p.transcriptsDir(s))
	return cfg + "  events_secrets:\n    - " + CCAIEventsSecret + "\n"
}

// transcriptsDir is the directory transcripts are dropped into.
func (p *ccaiPlatform) transcriptsDir(s *Server) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dir == "" {
		p.dir = s.opts.TranscriptsDir
		if p.dir == "" {
			p.dir, _ = os.MkdirTemp("", "syncworker-ccai-transcripts-")
			p.madeDir = p.dir != ""
		}
	}
	return p.dir
}

// close removes the transcripts directory the fake made for itself.
func (p *ccaiPlatform) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.madeDir {
		return nil
	}
	p.madeDir = false
	return os.RemoveAll(p.dir)
}

func (p *ccaiPlatform) sessionID(domainID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strconv.FormatInt(p.chatIDLocked(domainID), 10)
}

func (p *ccaiPlatform) chatIDLocked(domainID string) int64 {
	if id, ok := p.ids[domainID]; ok {
		return id
	}
	id := p.nextID
	p.nextID++
	p.ids[domainID], p.domains[id] = id, domainID
	return id
}

// agentID numbers a person who works as an agent.
func (p *ccaiPlatform) agentID(name, email string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := ccaiAgentKey{name, email}
	if id, ok := p.agents[k]; ok {
		return id
	}
	id := int64(len(p.agents) + 1)
	p.agents[k], p.people[id] = id, k
	return id
}

// auth accepts HTTP Basic with the subdomain and the chat token.
func (p *ccaiPlatform) auth(s *Server, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		okUser := subtle.ConstantTimeCompare([]byte(user), []byte(CCAISubdomain)) == 1
		okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.ChatToken)) == 1
		if !ok || !okUser || !okPass {
			w.Header().Set("WWW-Authenticate", `Basic realm="CCAI Platform"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		h(w, r)
	})
}

// writeChatError answers errors, injected faults included, as the Apps API
// does: {"message":"…"}.
func (*ccaiPlatform) writeChatError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// handleChat serves GET /apps/api/v1/chats/{id}.
func (p *ccaiPlatform) handleChat(s *Server, w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	p.mu.Lock()
	domainID, known := p.domains[id]
	p.mu.Unlock()
	var sess aggregate.Session
	if known && err == nil {
		sess, _, known = s.Session(domainID)
	}
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Chat not found"})
		return
	}
	writeJSON(w, http.StatusOK, p.appsChat(id, &sess))
}

// appsChat renders a session as the Apps API's chat.
func (p *ccaiPlatform) appsChat(id int64, sess *aggregate.Session) map[string]any {
	status, assigned := "queued", connectedAt(sess)
	agents := []map[string]any{}
	for _, a := range personsInJoinOrder(sess) {
		aid := p.agentID(a.Name, a.Email)
		first, last, _ := strings.Cut(a.Name, " ")
		agents = append(agents, map[string]any{"id": aid, "name": a.Name, "first_name": first, "last_name": last})
	}
	if len(agents) > 0 {
		status = "assigned"
	}
	if sess.Ended() {
		status = "finished"
	}
	identifier := sess.Customer.Email
	if identifier == "" {
		identifier = sess.Customer.ID
	}
	return map[string]any{
		"id": id, "lang": "en", "chat_type": "web", "status": status,
		"created_at": isoTime(sess.StartedAt), "assigned_at": isoTime(assigned), "ends_at": isoTime(sess.EndedAt),
		"end_user":   map[string]any{"id": 5, "identifier": identifier, "name": sess.Customer.Name},
		"agent_info": agents,
	}
}

// handleAgent serves GET /manager/api/v1/agents/{id}.
func (p *ccaiPlatform) handleAgent(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	p.mu.Lock()
	k, ok := p.people[id]
	p.mu.Unlock()
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Agent not found"})
		return
	}
	first, last, _ := strings.Cut(k.name, " ")
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": k.name, "first_name": first, "last_name": last,
		"email": strings.TrimSpace(k.email), "status": "active"})
}

// isoTime renders a time as CCAI's APIs do, with its full precision; the
// zero time is null.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// connectedAt is when the session's first live chat was established.
func connectedAt(sess *aggregate.Session) time.Time {
	var first time.Time
	for _, lc := range sess.LiveChats {
		if !lc.ConnectedAt.IsZero() && (first.IsZero() || lc.ConnectedAt.Before(first)) {
			first = lc.ConnectedAt
		}
	}
	return first
}

// stints returns every agent stint of the session by join time.
func stints(sess *aggregate.Session) []aggregate.Agent {
	var out []aggregate.Agent
	for _, lc := range sess.LiveChats {
		for _, a := range lc.Agents {
			if !a.JoinedAt.IsZero() {
				out = append(out, a)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b aggregate.Agent) int { return a.JoinedAt.Compare(b.JoinedAt) })
	return out
}

// personsInJoinOrder is each agent once, by first join.
func personsInJoinOrder(sess *aggregate.Session) []aggregate.Agent {
	var out []aggregate.Agent
	seen := map[ccaiAgentKey]bool{}
	for _, a := range stints(sess) {
		if k := (ccaiAgentKey{a.Name, a.Email}); !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}

// chatRoutes: CCAI Platform's change listing is the events it pushed, and
// a chat's messages are a file, so neither is a route.
func (*ccaiPlatform) chatRoutes() ChatRoutes {
	return ChatRoutes{Session: RouteCCAIGetChat, Others: []string{RouteCCAIGetAgent}}
}
