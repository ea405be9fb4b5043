package fetch_test

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// fakePlatform is a well-behaved in-memory chat platform (SPEC §4.1), the
// reference backend of the contract tests.
type fakePlatform struct {
	token    string
	mu       sync.Mutex
	sessions map[string]aggregate.Session
	messages map[string][]aggregate.Message
}

// newFakeBackend serves a fakePlatform under /api/v1, the way a real base
// URL has a path, and returns what testContract needs.
func newFakeBackend(t *testing.T) (string, string, func(aggregate.Session, []aggregate.Message)) {
	t.Helper()
	p := &fakePlatform{
		token:    "fake-token-123",
		sessions: map[string]aggregate.Session{},
		messages: map[string][]aggregate.Message{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sessions", p.list)
	mux.HandleFunc("GET /sessions/{id}", p.session)
	mux.HandleFunc("GET /sessions/{id}/messages", p.messagesOf)
	srv := httptest.NewServer(http.StripPrefix("/api/v1", p.auth(mux)))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1", p.token, p.seed
}

func (p *fakePlatform) seed(s aggregate.Session, msgs []aggregate.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sessions[s.ID] = s
	p.messages[s.ID] = slices.Clone(msgs)
}

func (p *fakePlatform) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+p.token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *fakePlatform) list(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var since time.Time
	if v := r.FormValue("updated_since"); v != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad updated_since"})
			return
		}
	}
	var all []aggregate.Session
	for _, s := range p.sessions {
		if !s.UpdatedAt.Before(since) {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(a, b aggregate.Session) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
	})
	start, _ := strconv.Atoi(r.FormValue("cursor"))
	end := min(start+limitOf(r), len(all))
	start = min(start, end)
	type head struct {
		ID        string     `json:"id"`
		Status    string     `json:"status"`
		StartedAt time.Time  `json:"started_at"`
		EndedAt   *time.Time `json:"ended_at"`
		UpdatedAt time.Time  `json:"updated_at"`
	}
	page := struct {
		Sessions   []head `json:"sessions"`
		NextCursor string `json:"next_cursor"`
	}{Sessions: []head{}}
	for _, s := range all[start:end] {
		h := head{ID: s.ID, Status: string(s.Status), StartedAt: s.StartedAt, UpdatedAt: s.UpdatedAt}
		if !s.EndedAt.IsZero() {
			h.EndedAt = &s.EndedAt
		}
		page.Sessions = append(page.Sessions, h)
	}
	if end < len(all) {
		page.NextCursor = strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, page)
}

func (p *fakePlatform) session(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such session"})
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (p *fakePlatform) messagesOf(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := p.sessions[id]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such session"})
		return
	}
	after, _ := strconv.ParseInt(r.FormValue("after"), 10, 64)
	page := struct {
		Messages []aggregate.Message `json:"messages"`
		HasMore  bool                `json:"has_more"`
	}{Messages: []aggregate.Message{}}
	for _, m := range p.messages[id] {
		if m.Seq <= after {
			continue
		}
		if len(page.Messages) == limitOf(r) {
			page.HasMore = true
			break
		}
		page.Messages = append(page.Messages, m)
	}
	writeJSON(w, http.StatusOK, page)
}

func limitOf(r *http.Request) int {
	n, err := strconv.Atoi(r.FormValue("limit"))
	if err != nil || n <= 0 || n > 1000 {
		return 200
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
