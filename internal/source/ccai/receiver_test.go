package ccai_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/source/ccai"
	"github.com/syncworker/syncworker/internal/state"
)

var now0 = time.Date(2024, 8, 27, 17, 10, 0, 0, time.UTC)

// receiverFixture is a Client with its events in a real state file and its
// receiver served by httptest.
type receiverFixture struct {
	t        *testing.T
	c        *ccai.Client
	store    *state.Store
	srv      *httptest.Server
	accepted atomic.Int64
	now      time.Time
}

func newReceiver(t *testing.T, secrets ...string) *receiverFixture {
	t.Helper()
	f := &receiverFixture{t: t, now: now0}
	store, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	f.c, err = ccai.New(ccai.Options{BaseURL: "http://127.0.0.1:1/apps/api/v1", Subdomain: "acme", Token: "tok",
		TranscriptsDir: t.TempDir(), EventsSecrets: secrets, Cache: store, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := f.c.EventHandler(func(string) { f.accepted.Add(1) })
	if !ok {
		t.Fatal("no handler with secrets")
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// post sends body signed with secret at ts and returns the status.
func (f *receiverFixture) post(body []byte, secret string, ts time.Time) int {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL, bytes.NewReader(body))
	if secret != "" {
		stamp := strconv.FormatInt(ts.Unix(), 10)
		req.Header.Set(ccai.HeaderTimestamp, stamp)
		req.Header.Set(ccai.HeaderSignature, hex.EncodeToString(ccai.Sign([]byte(secret), stamp, body)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (f *receiverFixture) stored() int {
	f.t.Helper()
	n, err := f.store.CountEvents(context.Background(), ccai.Namespace)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

const chatStarted = `{"type":"ChatState","item":{"chat_id":138,"state":"waiting","direction":"incoming","initiator":"end_user_5",
 "participants":[{"state":"connected","type":"external","dn":"end_user_5"}],"timestamp":1724803200}}`

func TestReceiver_BadInputStoresNothing(t *testing.T) {
	t.Parallel()
	f := newReceiver(t, "primary", "secondary")
	good := []byte(chatStarted)
	unsigned, _ := http.Post(f.srv.URL, "application/json", bytes.NewReader(good))
	unsigned.Body.Close()
	huge := []byte(`{"chat_id":1,"state":"waiting","pad":"` + strings.Repeat("x", ccai.MaxEventBytes) + `"}`)
	cases := []struct {
		name   string
		status int
	}{
		{"unsigned", unsigned.StatusCode},
		{"forged signature", f.post(good, "not-the-secret", f.now)},
		{"stale timestamp", f.post(good, "primary", f.now.Add(-5*time.Minute-time.Second))},
		{"timestamp from the future", f.post(good, "primary", f.now.Add(6*time.Minute))},
		{"oversized body", f.post(huge, "primary", f.now)},
		{"garbage JSON", f.post([]byte(`{"chat_id":`), "primary", f.now)},
		{"not an object", f.post([]byte(`[1,2]`), "primary", f.now)},
		{"no chat id", f.post([]byte(`{"state":"waiting"}`), "primary", f.now)},
		{"chat id not a number", f.post([]byte(`{"chat_id":"../etc","state":"waiting"}`), "primary", f.now)},
		{"no state", f.post([]byte(`{"chat_id":5}`), "primary", f.now)},
		{"bad ends_at", f.post([]byte(`{"chat_id":5,"state":"disconnected","ends_at":"yesterday"}`), "primary", f.now)},
		{"timestamp in ms", f.post([]byte(`{"chat_id":5,"state":"waiting","timestamp":1724803200000}`), "primary", f.now)},
	}
	want := map[string]int{"unsigned": 401, "forged signature": 401, "stale timestamp": 401,
		"timestamp from the future": 401, "oversized body": 413}
	for _, c := range cases {
		w, ok := want[c.name]
		if !ok {
			w = http.StatusBadRequest
		}
		if c.status != w {
			t.Errorf("%s: status %d, want %d", c.name, c.status, w)
		}
	}
	if n := f.stored(); n != 0 || f.accepted.Load() != 0 {
		t.Errorf("%d events stored, %d accepted after bad input; want none", n, f.accepted.Load())
	}
	// Within the window either way, with either secret: accepted.
	if s := f.post(good, "secondary", f.now.Add(-4*time.Minute)); s != http.StatusAccepted {
		t.Errorf("good event signed with the second secret: %d", s)
	}
	if n := f.stored(); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

func TestReceiver_RepeatedAndIgnoredEvents(t *testing.T) {
	t.Parallel()
	f := newReceiver(t, "s3cret")
	bare := []byte(`{"chat_id":"138","state":"waiting","participants":[{"state":"connected","type":"external","dn":"end_user_5"}],"timestamp":1724803200}`)
	for i, body := range [][]byte{[]byte(chatStarted), []byte(chatStarted), bare} {
		if s := f.post(body, "s3cret", f.now); s != http.StatusAccepted {
			t.Fatalf("event %d: %d", i, s)
		}
	}
	// The envelope and the bare item are the same event: stored once.
	if n := f.stored(); n != 1 {
		t.Errorf("%d events stored for one event sent three times, want 1", n)
	}
	if s := f.post([]byte(`{"type":"AgentState","item":{"agent_id":1}}`), "s3cret", f.now); s != http.StatusAccepted {
		t.Errorf("AgentState: %d, want 202", s)
	}
	if n := f.stored(); n != 1 {
		t.Errorf("%d events stored after an AgentState event, want 1", n)
	}
}

func TestReceiver_NoSecretsNoHandler(t *testing.T) {
	t.Parallel()
	c, err := ccai.New(ccai.Options{BaseURL: "http://x/apps/api/v1", Subdomain: "a", Token: "t", TranscriptsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.EventHandler(nil); ok {
		t.Error("a handler without secrets")
	}
	if err := c.ListChanges(context.Background(), now0, nil); err == nil {
		t.Error("a change listing without a receiver")
	}
}

func TestSign_KnownVector(t *testing.T) {
	t.Parallel()
	// printf "1724803200.{}" | openssl dgst -sha256 -hmac key
	got := hex.EncodeToString(ccai.Sign([]byte("key"), "1724803200", []byte("{}")))
	if got != "c76d8ea36a5a5435237cc990078e94004478d276d14814639dbedadd58756c5e" {
		t.Errorf("signature %s", got)
	}
}
