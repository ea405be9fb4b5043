package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// TestConcurrentClients runs readers and writers of both APIs and of the
// Go API at once; run with -race it checks the locking.
func TestConcurrentClients(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{Chat: Fault{RateLimitShare: 0.1}, ESM: Fault{ServerErrorShare: 0.1}}})
	if _, err := f.Generate(GenOptions{Sessions: 60, MessagesPerSession: 8, Seed: 2, Start: t0}); err != nil {
		t.Fatal(err)
	}
	tok := f.login()
	ids := f.SessionIDs()
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 20 {
				id := ids[(w*20+i)%len(ids)]
				switch i % 5 {
				case 0:
					f.chat("/sessions?limit=7")
				case 1:
					f.chat("/sessions/" + id + "/messages?after=2")
				case 2:
					f.esm("GET", "/dc/chat_session/data?dataCards=true&filter="+url.QueryEscape("$is_chat_active$ = 'Yes'"), tok, nil)
				case 3:
					c, _ := f.CardBySession(id)
					f.esm("PATCH", "/dc/chat_session/data/"+c.ID, tok, map[string]any{"data": map[string]any{
						"message_count": map[string]any{"values": []any{map[string]any{"value": i}}},
					}})
				case 4:
					if err := f.AppendMessages(id, aggregate.Message{Sender: aggregate.Sender{Type: aggregate.SenderVisitor}, Text: fmt.Sprint(i)}); err != nil {
						t.Error(err)
					}
					f.SetFaults(f.Faults())
				}
			}
		})
	}
	wg.Wait()
	if f.Count(RoutePatchCard) != 24 || len(f.SessionIDs()) != 60 {
		t.Errorf("counts %v", f.Counts())
	}
	if r := f.esm("GET", "/dc/chat_session", tok, nil); r.status != http.StatusOK && r.status < 500 {
		t.Errorf("status %d", r.status)
	}
}
