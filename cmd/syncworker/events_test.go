package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestRun_CCAIEventsWriteCardsWithoutWaiting runs a CCAI Platform tenant
// whose cron tick is a year away: the fake's signed events, posted to
// run's listener when the chat ends, get its card closed with its
// transcript by the extra pass they ask for. The event routes answer 404
// for an unknown tenant or kind, 405 for another method, 400 for garbage.
func TestRun_CCAIEventsWriteCardsWithoutWaiting(t *testing.T) {
	t.Parallel()
	sb, sbAddr := newSandbox(t, 0, sandbox.Options{Platform: sandbox.PlatformCCAI, TranscriptsDir: t.TempDir()})
	start := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	sess := aggregate.Session{ID: "ws-1", StartedAt: start,
		Customer: aggregate.Customer{ID: "u-1", Name: "Maija", Email: "maija@example.com"},
		LiveChats: []aggregate.LiveChat{{ID: "lc-1", RequestedAt: start.Add(time.Minute), ConnectedAt: start.Add(2 * time.Minute),
			Agents: []aggregate.Agent{{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: start.Add(2 * time.Minute)}}}}}
	msgs := []aggregate.Message{
		{Seq: 1, SentAt: start.Add(150 * time.Second), Sender: aggregate.Sender{Type: aggregate.SenderVisitor, Name: "Maija"}, LiveChatID: "lc-1", Text: "VPN down"},
		{Seq: 2, SentAt: start.Add(195 * time.Second), Sender: aggregate.Sender{Type: aggregate.SenderAgent, Name: "Ann Agent"}, LiveChatID: "lc-1", Text: "On it"},
	}
	if _, err := sb.AddCase(sess, msgs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	yaml := sandboxConfigWith("acme", sbAddr, filepath.Join(dir, "acme.db"), sb.ChatConfig("http://"+sbAddr))
	yaml = strings.Replace(yaml, `"* * * * *"`, `"0 0 1 1 *"`, 1)
	file := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(file, noCeilings([]byte(yaml)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, out, stop := listeningRun(t, "-config", file)
	defer stop()
	waitFor(t, 20*time.Second, "the first pass", func() bool { return strings.Contains(out.String(), "tenant=acme") })

	post := func(path, method string, body []byte) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, method string
		want         int
	}{
		{"/events/ccai/nobody", http.MethodPost, http.StatusNotFound},
		{"/events/genesys/acme", http.MethodPost, http.StatusNotFound},
		{"/events/ccai/acme", http.MethodGet, http.StatusMethodNotAllowed},
		{"/events/ccai/acme", http.MethodPost, http.StatusUnauthorized}, // unsigned
	} {
		if got := post(c.path, c.method, []byte(`{"chat_id":1,"state":"waiting"}`)); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}

	sb.CCAI().SetWebhook("http://"+addr+"/events/ccai/acme", "")
	if err := sb.EndSession("ws-1", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if st := sb.CCAI().Stats(); st.Accepted == 0 || st.Failed != 0 {
		t.Fatalf("webhook stats %+v", st)
	}
	waitFor(t, 20*time.Second, "the card closed by the events", func() bool {
		cards := sb.CardsBySession("ws-1")
		return len(cards) == 1 && cards[0].Code("is_chat_active") == "no"
	})
	card := sb.CardsBySession("ws-1")[0]
	if n, _ := card.Number("message_count"); n != 2 || !strings.Contains(card.Text("chat_log"), "Ann Agent (agent): On it") {
		t.Errorf("closed card: %v messages, log %q", n, card.Text("chat_log"))
	}
	if code := stop(); code != exitOK {
		t.Errorf("run exited %d", code)
	}
}
