package esm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClient_CreateCard(t *testing.T) {
	postFault := func(n int, apply func(http.ResponseWriter, *http.Request, http.Handler)) func(*fakeESM) {
		return func(f *fakeESM) { f.inject(http.MethodPost, "/dc/chat_session/data", n, apply) }
	}
	unavailable := `{"code":503,"message":"Service Unavailable"}`
	tests := []struct {
		name      string
		faults    []func(*fakeESM)
		key       Match
		data      map[string][]Value
		wantPosts int32
		wantCards int
		wantID    bool
		wantErr   string
		timeout   time.Duration
	}{
		{name: "Created", wantPosts: 1, wantCards: 1, wantID: true},
		{name: "503AfterCreateResolvedByLookup", faults: []func(*fakeESM){postFault(1, afterHandling(503))},
			wantPosts: 1, wantCards: 1, wantID: true},
		{name: "ConnectionDroppedAfterCreateResolvedByLookup", faults: []func(*fakeESM){postFault(1, dropAfterHandling)},
			wantPosts: 1, wantCards: 1, wantID: true},
		{name: "TimeoutAfterCreateResolvedByLookup", faults: []func(*fakeESM){postFault(1, slowAfterHandling(2*time.Second))},
			timeout: 300 * time.Millisecond, wantPosts: 1, wantCards: 1, wantID: true},
		{name: "503BeforeCreateRetriedAfterLookup", faults: []func(*fakeESM){postFault(1, failWith(503, unavailable))},
			wantPosts: 2, wantCards: 1, wantID: true},
		{name: "429BeforeCreateRetriedAfterLookup", faults: []func(*fakeESM){postFault(1, failWith(429, ""))},
			wantPosts: 2, wantCards: 1, wantID: true},
		{name: "AlwaysFailingBounded", faults: []func(*fakeESM){postFault(99, failWith(503, unavailable))},
			wantPosts: 3, wantCards: 0, wantErr: "card not created after 3 attempts"},
		{name: "LookupFailsNoSecondPost", faults: []func(*fakeESM){postFault(1, afterHandling(503)),
			func(f *fakeESM) { f.inject(http.MethodGet, "/dc/chat_session/data", 99, failWith(500, unavailable)) }},
			wantPosts: 1, wantCards: 1, wantErr: "looking the card up to see whether it was created"},
		{name: "400NotRetried", faults: []func(*fakeESM){postFault(1, failWith(400, `{"code":400,"message":"Invalid JSON."}`))},
			wantPosts: 1, wantCards: 0, wantErr: "status 400: Invalid JSON."},
		{name: "NoKeyNoRetry", key: Match{}, faults: []func(*fakeESM){postFault(1, failWith(503, unavailable))},
			wantPosts: 1, wantCards: 0, wantErr: "status 503"},
		{name: "WriteErrorKeepsID", data: map[string][]Value{"is_chat_active": {Static("Maybe", "maybe")}},
			wantPosts: 1, wantCards: 1, wantID: true, wantErr: "write rejected: is_chat_active: Couldn't find static-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeESM(t)
			c := newTestClient(t, f.BaseURL(), func(o *Options) {
				if tt.timeout > 0 {
					o.HTTP.Timeout = tt.timeout
				}
			})
			if _, err := c.Template(context.Background(), "chat_session"); err != nil { // log in before the faults
				t.Fatal(err)
			}
			f.cards["chat_session"] = map[int64]map[string][]Value{}
			for _, inject := range tt.faults {
				inject(f)
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
			if n := f.posts.Load(); n != tt.wantPosts {
				t.Errorf("POSTs = %d, want %d", n, tt.wantPosts)
			}
			if n := f.cardCount("chat_session"); n != tt.wantCards {
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

func TestClient_CreateCard_RequestJSON(t *testing.T) {
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
	f := newFakeESM(t)
	c := newTestClient(t, f.BaseURL())
	if _, err := c.Template(context.Background(), "chat_session"); err != nil { // log in first
		t.Fatal(err)
	}
	f.inject(http.MethodPost, "/dc/chat_session/data", 1, slowAfterHandling(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.CreateCard(ctx, "chat_session", "chat_sessions", Match{"chat_session_id", "ws-c"},
		map[string][]Value{"chat_session_id": {String("ws-c")}})
	if !errors.Is(err, context.DeadlineExceeded) || f.posts.Load() != 1 {
		t.Fatalf("err = %v after %d POSTs; want the deadline after 1", err, f.posts.Load())
	}
}
