package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/syncworker/syncworker/internal/sandbox"
)

func Example() {
	sb := sandbox.New(sandbox.Options{ChatToken: "t0ken", TokenTTL: 2 * time.Second})
	if _, err := sb.Generate(sandbox.GenOptions{Sessions: 3, Seed: 1}); err != nil {
		panic(err)
	}
	ts := httptest.NewServer(sb)
	defer ts.Close()

	// Point the chat client at ts.URL+sandbox.ChatPrefix and the ESM client
	// at ts.URL+sandbox.ESMPrefix, run a pass, then look at the cards.
	req, _ := http.NewRequest("GET", ts.URL+sandbox.ChatPrefix+"/sessions?limit=1", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := ts.Client().Do(req)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	card, _ := sb.CardBySession("ws-000001")
	fmt.Println(resp.StatusCode, card.Text("is_chat_active"), sb.Count(sandbox.RouteListSessions))
	// Output: 200 Yes 1
}
