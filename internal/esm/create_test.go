package esm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/sandbox"
)

func TestClient_CreateCard(t *testing.T) {
	t.Parallel()
	// failure is a sandbox.FailNext of the next n requests of route.
	type failure struct {
		route string
		n     int
		f     sandbox.Failure
	}
	post := func(n int, f sandbox.Failure) failure { return failure{sandbox.RouteCreateCard, n, f} }
	lostAnswer := func(f sandbox.Failure) failure { f.Handled = true; return post(1, f) }
	unavailable := sandbox.Failure{Status: http.StatusServiceUnavailable}
	tests := []struct {
		name      string
		fail      []failure
		key       Match
		data      map[string][]Value
		wantPosts int
		wantCards int
		wantID    bool
		wantErr   string
		timeout   time.Duration
	}{
		{name: "Created", wantPosts: 1, wantCards: 1, wantID: true},
		{name: "503AfterCreateResolvedByLookup", fail: []failure{lostAnswer(unavailable)},
			wantPosts: 1, wantCards: 1, wantID: true},
		{name: "ConnectionDroppedAfterCreateResolvedByLookup", fail: []failure{lostAnswer(sandbox.Failure{Drop: true})},
			wantPosts: 1, wantCards: 1, wantID: true},
		{name: "TimeoutAfterCreateResolvedByLookup", fail: []failure{lostAnswer(sandbox.Failure{Delay: 2 * time.Second})},
			timeout: 300 * time.Millisecond, wantPosts: 1, wantCards: 1, wantID: true},
		{name: "503BeforeCreateRetriedAfterLookup", fail: []failure{post(1, unavailable)},
			wantPosts: 2, wantCards: 1, wantID: true},
		{name: "429BeforeCreateRetriedAfterLookup", fail: []failure{post(1, sandbox.Failure{Status: http.StatusTooManyRequests})},
			wantPosts: 2, wantCards: 1, wantID: true},
		{name: "AlwaysFailingBounded", fail: []failure{post(99, unavailable)},
			wantPosts: 3, wantCards: 0, wantErr: "card not created after 3 attempts"},
		{name: "LookupFailsNoSecondPost", fail: []failure{lostAnswer(unavailable),
			{sandbox.RouteListCards, 99, sandbox.Failure{Status: http.StatusInternalServerError}}},
			wantPosts: 1, wantCards: 1, wantErr: "looking the card up to see whether it was created"},
		{name: "400NotRetried", fail: []failure{post(1, sandbox.Failure{Status: http.StatusBadRequest, Message: "Invalid JSON."})},
			wantPosts: 1, wantCards: 0, wantErr: "esm create chat_session card: 400 Bad Request: Invalid JSON."},
		{name: "RefusedValueNotRetried", data: map[string][]Value{"is_chat_active": {Static("Maybe", "maybe")}},
			wantPosts: 1, wantCards: 0, wantErr: "400 Bad Request: data card not created"},
		{name: "NoKeyNoRetry", key: Match{}, fail: []failure{post(1, unavailable)},
			wantPosts: 1, wantCards: 0, wantErr: "esm create chat_session card: 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, baseURL := newSandbox(t, sandbox.Options{})
			c := newTestClient(t, baseURL, func(o *Options) {
				if tt.timeout > 0 {
					o.HTTP.Timeout = tt.timeout
				}
			})
			if _, err := c.Template(context.Background(), "chat_session"); err != nil { // log in before the faults
				t.Fatal(err)
			}
			for _, f := range tt.fail {
				sb.FailNext(f.route, f.n, f.f)
			}
			key := tt.key
			if tt.name != "NoKeyNoRetry" {
				key = Match{Attribute: "chat_session_id", Value: "ws-" + tt.name}
			}
			data := map[string][]Value{"chat_session_id": {String("ws-" + tt.name)}, "is_chat_active": {active}}
			for k, v := range tt.data {
				data[k] = v
			}
			id, err := c.CreateCard(context.Background(), "chat_session", "chat_sessions", key, data)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if (id != "") != tt.wantID {
				t.Errorf("id = %q, want one: %v", id, tt.wantID)
			}
			if n := sb.Count(sandbox.RouteCreateCard); n != tt.wantPosts {
				t.Errorf("POSTs = %d, want %d", n, tt.wantPosts)
			}
			if n := len(sb.SessionCards()); n != tt.wantCards {
				t.Errorf("cards = %d, want %d", n, tt.wantCards)
			}
			if tt.wantID && tt.wantCards == 1 {
				got, _ := c.FindCards(context.Background(), "chat_session", Match{"chat_session_id", "ws-" + tt.name})
				if len(got) != 1 || got[0] != id {
					t.Errorf("card by key = %v, CreateCard returned %s", got, id)
				}
			}
		})
	}
}

// TestClient_CreateCard_WriteErrorKeepsID: ESM may create the card and
// still refuse some of its values, a 201 with meta.errors (the sandbox
// refuses the whole create instead). The id comes back with the
// *WriteError, and nothing is looked up or sent again.
func TestClient_CreateCard_WriteErrorKeepsID(t *testing.T) {
	t.Parallel()
	s := newAPIServer(t)
	s.mux.HandleFunc("POST /v1/dc/chat_session/data", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusCreated, `{"meta":{"timestamp":"2024-05-01T09:58:00Z","errors":[`+refusedStatic+`]},"dataCard":{"dataCardId":"4242"}}`)
	})
	id, err := s.client(t).CreateCard(context.Background(), "chat_session", "chat_sessions", Match{"chat_session_id", "ws-1"},
		map[string][]Value{"chat_session_id": {String("ws-1")}, "is_chat_active": {Static("Maybe", "maybe")}})
	if err == nil || !strings.Contains(err.Error(), "write rejected: is_chat_active: Couldn't find static-value") {
		t.Fatalf("err = %v, want a WriteError for is_chat_active", err)
	}
	if id != "4242" {
		t.Errorf("id = %q, want the created card's", id)
	}
	if reqs := s.requests(); len(reqs) != 1 {
		t.Errorf("requests = %+v, want the one POST", reqs)
	}
}

func TestClient_CreateCard_RequestJSON(t *testing.T) {
	t.Parallel()
	s := newAPIServer(t)
	s.mux.HandleFunc("POST /v1/dc/chat_session/data", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusCreated, `{"meta":{"timestamp":"2024-05-01T09:58:00Z"},"dataCard":{"dataCardId":"4242"}}`)
	})
	id, err := s.client(t).CreateCard(context.Background(), "chat_session", "chat_sessions",
		Match{"chat_session_id", "ws-1"}, map[string][]Value{
			"chat_session_id": {String("ws-1")}, "is_chat_active": {Static("Yes", "yes")}, "members": nil})
	if err != nil || id != "4242" {
		t.Fatalf("CreateCard = %q, %v", id, err)
	}
	want := `{"folderCode":"chat_sessions","data":{"chat_session_id":{"values":[{"value":"ws-1"}]},` +
		`"is_chat_active":{"values":[{"value":"Yes","code":"yes"}]},"members":{"values":[]}}}`
	if reqs := s.requests(); len(reqs) != 1 || reqs[0].body != want {
		t.Fatalf("requests = %+v\nwant body %s", reqs, want)
	}
}

func TestClient_CreateCard_Cancelled(t *testing.T) {
	t.Parallel()
	sb, baseURL := newSandbox(t, sandbox.Options{})
	c := newTestClient(t, baseURL)
	if _, err := c.Template(context.Background(), "chat_session"); err != nil { // log in first
		t.Fatal(err)
	}
	sb.FailNext(sandbox.RouteCreateCard, 1, sandbox.Failure{Handled: true, Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.CreateCard(ctx, "chat_session", "chat_sessions", Match{"chat_session_id", "ws-c"},
		map[string][]Value{"chat_session_id": {String("ws-c")}})
	if posts := sb.Count(sandbox.RouteCreateCard); !errors.Is(err, context.DeadlineExceeded) || posts != 1 {
		t.Fatalf("err = %v after %d POSTs; want the deadline after 1", err, posts)
	}
}
