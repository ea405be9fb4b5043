package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/esmspec"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/sourcetest"
	"github.com/syncworker/syncworker/internal/sources"
	"github.com/syncworker/syncworker/internal/state"
)

// TestMain reports how many ESM exchanges the tests checked against
// Efecte's document (see esmspec), visible with go test -v.
func TestMain(m *testing.M) {
	code := m.Run()
	fmt.Println(esmspec.Summary())
	os.Exit(code)
}

// harness is one tenant synced against a sandbox, with real clients and a
// real state file, and a clock the test moves.
type harness struct {
	t     *testing.T
	sb    *sandbox.Server
	srv   *httptest.Server
	cfg   *config.Config
	store *state.Store
	eng   *engine.Engine
	logs  *syncBuffer
	hooks engine.Hooks
	// progress, when set, is told how a backfill advances.
	progress engine.Progress
	// stamp is the engine's CredentialsStamp.
	stamp string
	// mem, when set, is the chat source instead of the sandbox's
	// generic platform.
	mem *sourcetest.Memory
	// events receives the events a pushing platform's fake posts (CCAI
	// Platform): the receiver of the source open built.
	events http.Handler

	mu  sync.Mutex
	now time.Time
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var epoch = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)

// newHarness starts a sandbox and a tenant whose YAML has extra appended.
func newHarness(t *testing.T, extra string) *harness {
	t.Helper()
	return newHarnessWith(t, extra, nil)
}

// newHarnessWith is newHarness with the sandbox's options adjusted by opts.
func newHarnessWith(t *testing.T, extra string, opts func(*sandbox.Options)) *harness {
	t.Helper()
	h := &harness{t: t, now: epoch, logs: &syncBuffer{}}
	o := sandbox.Options{ChatToken: "chat-token", Login: "worker", Password: "pw", Now: h.clock}
	if opts != nil {
		opts(&o)
	}
	h.sb = sandbox.New(o)
	t.Cleanup(func() { h.sb.Close() })
	h.srv = httptest.NewServer(esmspec.Wrap(t, h.sb))
	t.Cleanup(h.srv.Close)
	yaml := fmt.Sprintf(`tenant: test
schedule: "*/5 * * * *"
state_path: %s
%s  max_rps: 0
esm:
  base_url: %s/rest-api/itsm/v1
  login: worker
  password: pw
  template: chat_session
  folder: chat_sessions
  max_rps: 0
%s`, filepath.Join(t.TempDir(), "state", "test.db"), h.sb.ChatConfig(h.srv.URL), h.srv.URL, extra)
	cfg, err := config.Parse(strings.NewReader(yaml), "test.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	h.open()
	h.serveEvents()
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// open (re)opens the state and builds a fresh engine, as a new process would.
func (h *harness) open() {
	h.t.Helper()
	store, err := state.Open(h.cfg.StatePath)
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = store
	h.t.Cleanup(func() { store.Close() })
	httpOpts := httpclient.Options{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}
	chatHTTP, esmHTTP := httpOpts, httpOpts
	chatHTTP.Timeout, esmHTTP.Timeout = h.cfg.Chat.Timeout, h.cfg.ESM.Timeout
	chat, err := sources.New(h.cfg, nil, sources.Env{Now: h.clock, HTTP: chatHTTP, Cache: store})
	if err != nil {
		h.t.Fatal(err)
	}
	esmc, err := esm.New(esm.Options{BaseURL: h.cfg.ESM.BaseURL, Login: h.cfg.ESM.Login,
		Password: string(h.cfg.ESM.Password), Now: h.clock, HTTP: esmHTTP})
	if err != nil {
		h.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if r, ok := chat.(source.Receiver); ok {
		handler, _ := r.EventHandler(nil)
		h.mu.Lock()
		h.events = handler
		h.mu.Unlock()
	}
	var src source.Source = chat
	if h.mem != nil {
		src = h.mem
	}
	h.eng = engine.New(h.cfg, engine.Options{Source: src, ESM: esmc, Store: store, Logger: logger, Now: h.clock, Hooks: h.hooks,
		Progress: h.progress, CredentialsStamp: h.stamp})
}

// reopen closes the state and opens it again with a new engine.
func (h *harness) reopen() {
	h.t.Helper()
	h.store.Close()
	h.open()
}

// pass runs one pass and fails the test on a fatal error.
func (h *harness) pass() engine.Summary {
	h.t.Helper()
	s, err := h.eng.Pass(context.Background(), nil)
	if err != nil {
		h.t.Fatalf("pass: %v\nlogs:\n%s", err, h.logs)
	}
	return s
}

func (h *harness) count(route string) int { return h.sb.Count(route) }

// card returns the card of session id, failing when there is not exactly one.
func (h *harness) card(id string) sandbox.Card {
	h.t.Helper()
	cards := h.sb.CardsBySession(id)
	if len(cards) != 1 {
		h.t.Fatalf("session %s has %d cards, want 1", id, len(cards))
	}
	return cards[0]
}

// email returns the email of the person card id, "" for none.
func (h *harness) email(id string) string {
	if id == "" {
		return ""
	}
	c, ok := h.sb.Card(id)
	if !ok {
		return "<missing card " + id + ">"
	}
	return c.Text(h.sb.Options().PersonEmail)
}

// requestsFor counts the logged chat requests about session id.
func (h *harness) requestsFor(id string) int {
	n := 0
	for _, r := range h.sb.Requests() {
		if strings.HasPrefix(r.Path, "/chat/api/v1/sessions/"+id) {
			n++
		}
	}
	return n
}

// addVisitorMessage appends one visitor message, sent now, to session id.
func (h *harness) addVisitorMessage(id string) {
	h.t.Helper()
	msg := aggregate.Message{SentAt: h.now, Sender: aggregate.Sender{Type: aggregate.SenderVisitor}, Text: "x"}
	if err := h.sb.AppendMessages(id, msg); err != nil {
		h.t.Fatal(err)
	}
}

// newMemoryHarness is newHarness with an in-memory chat source in place of
// the sandbox's generic platform; ESM is still the sandbox's.
func newMemoryHarness(t *testing.T, extra string) *harness {
	t.Helper()
	h := newHarness(t, extra)
	h.mem = sourcetest.NewMemory(h.clock)
	h.reopen()
	return h
}

// addMemoryCase seeds the memory source with a session and its transcript,
// and gives the sandbox ESM its people and its card.
func (h *harness) addMemoryCase(s aggregate.Session, msgs []aggregate.Message) {
	h.t.Helper()
	if err := h.mem.Seed(s, msgs); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.sb.AddCase(s, nil); err != nil {
		h.t.Fatal(err)
	}
	h.sb.DeleteSession(s.ID) // the memory source serves it
}
