package generic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source/generic"
)

const testToken = "s3cr3t-t0ken"

// now is the injected clock of the unit tests: a day after the transcripts.
var now = t0.Add(24 * time.Hour)

// setup starts a server whose mux the test fills, go-github style, mounted
// under /api/v1, and a client of it with tiny retry waits. Every handler
// registered with handle checks the bearer token.
func setup(t *testing.T, opts ...func(*generic.Options)) (*generic.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(http.StripPrefix("/api/v1", mux))
	t.Cleanup(srv.Close)
	o := generic.Options{
		BaseURL: srv.URL + "/api/v1/",
		Token:   testToken,
		Now:     func() time.Time { return now },
		HTTP: httpclient.Options{
			Retries: 2, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond,
			MaxRetryAfter: 2 * time.Millisecond,
		},
	}
	for _, opt := range opts {
		opt(&o)
	}
	c, err := generic.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux
}

// handle registers h for pattern, failing the test on a request without the
// bearer token, and counts the requests.
func handle(t *testing.T, mux *http.ServeMux, pattern string, h http.HandlerFunc) *atomic.Int32 {
	t.Helper()
	var hits atomic.Int32
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q, want the bearer token", got)
		}
		h(w, r)
	})
	return &hits
}

// reply answers with status and a JSON body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// replies answers the n-th request with bodies[n] (the last one repeats),
// all with status 200.
func replies(bodies ...string) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(bodies)-1)
		reply(http.StatusOK, bodies[i])(w, r)
	}
}

// checkErr fails unless err matches want: nil, a sentinel (errors.Is) or a
// substring of the message.
func checkErr(t *testing.T, err error, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
	case error:
		if !errors.Is(err, w) {
			t.Fatalf("err = %v, want %v", err, w)
		}
	case string:
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("err = %v, want one containing %q", err, w)
		}
	}
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		o       generic.Options
		wantErr bool
	}{
		{"valid", generic.Options{BaseURL: "https://chat.example.com/api/v1", Token: testToken}, false},
		{"token with trailing newline", generic.Options{BaseURL: "http://localhost:1/x", Token: testToken + "\n"}, false},
		{"no token", generic.Options{BaseURL: "https://chat.example.com"}, true},
		{"token with space", generic.Options{BaseURL: "https://chat.example.com", Token: "a " + testToken}, true},
		{"no scheme", generic.Options{BaseURL: "chat.example.com/api", Token: testToken}, true},
		{"ftp", generic.Options{BaseURL: "ftp://chat.example.com", Token: testToken}, true},
		{"query", generic.Options{BaseURL: "https://chat.example.com/api?x=1", Token: testToken}, true},
		{"negative page size", generic.Options{BaseURL: "https://chat.example.com", Token: testToken, PageSize: -1}, true},
		{"missing CA file", generic.Options{BaseURL: "https://chat.example.com", Token: testToken,
			HTTP: httpclient.Options{CAFile: "/nonexistent/ca.pem"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generic.New(tt.o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

// specSession is GET /sessions/{id} exactly as SPEC §4.1 shows it, plus a
// member the client does not know.
const specSession = `{"id":"ws-1","status":"active","started_at":"2024-06-03T12:00:00+03:00","ended_at":null,
 "updated_at":"2024-06-03T09:06:00Z","region":"eu",
 "customer":{"id":"u-9","name":"Maija Meikäläinen","email":"maija@example.com"},
 "live_chats":[{"id":"lc-1","requested_at":"2024-06-03T09:00:21Z","connected_at":"2024-06-03T09:02:00Z","ended_at":null,
   "agents":[{"id":"a-1","name":"Ann Agent","email":"ann@example.com","joined_at":"2024-06-03T09:02:00Z","left_at":"2024-06-03T09:05:00Z"},
             {"id":"a-2","name":"Bob Agent","email":"bob@example.com","joined_at":"2024-06-03T09:05:00Z","left_at":null}]},
  {"id":"lc-2","requested_at":"2024-06-03T09:06:00Z","connected_at":null,"ended_at":null,"agents":[]}]}`

func TestClient_Session(t *testing.T) {
	t.Run("HappyPath", func(t *testing.T) {
		c, mux := setup(t)
		handle(t, mux, "GET /sessions/{id}", reply(200, specSession))
		got, err := c.Session(context.Background(), "ws-1")
		checkErr(t, err, nil)
		want := aggregate.Session{
			ID: "ws-1", Status: aggregate.StatusActive, StartedAt: at(0), UpdatedAt: at(360),
			Customer: aggregate.Customer{ID: "u-9", Name: "Maija Meikäläinen", Email: "maija@example.com"},
			LiveChats: []aggregate.LiveChat{{
				ID: "lc-1", RequestedAt: at(21), ConnectedAt: at(120),
				Agents: []aggregate.Agent{
					{ID: "a-1", Name: "Ann Agent", Email: "ann@example.com", JoinedAt: at(120), LeftAt: at(300)},
					{ID: "a-2", Name: "Bob Agent", Email: "bob@example.com", JoinedAt: at(300)},
				},
			}, {ID: "lc-2", RequestedAt: at(360), Agents: []aggregate.Agent{}}},
		}
		if !reflect.DeepEqual(inUTC(got), want) {
			t.Errorf("Session =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("IDPathEscaped", func(t *testing.T) {
		c, mux := setup(t)
		id := "ws 1/ä?x"
		handle(t, mux, "GET /sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
			if got, want := r.URL.EscapedPath(), "/sessions/ws%201%2F%C3%A4%3Fx"; got != want {
				t.Errorf("path = %s, want %s", got, want)
			}
			reply(200, strings.Replace(specSession, `"ws-1"`, `"ws 1/ä?x"`, 1))(w, r)
		})
		_, err := c.Session(context.Background(), id)
		checkErr(t, err, nil)
	})
	t.Run("EmptyID", func(t *testing.T) {
		c, mux := setup(t)
		hits := handle(t, mux, "/", reply(200, specSession))
		_, err := c.Session(context.Background(), "")
		checkErr(t, err, "session id missing")
		if hits.Load() != 0 {
			t.Error("a request was sent for an empty id")
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		c, mux := setup(t)
		handle(t, mux, "GET /sessions/{id}", reply(404, `{"error":"no such session"}`))
		_, err := c.Session(context.Background(), "ws-404")
		checkErr(t, err, generic.ErrSessionNotFound)
		checkErr(t, err, "fetch session ws-404")
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, tt := range invalidSessions {
			t.Run(tt.name, func(t *testing.T) {
				c, mux := setup(t)
				handle(t, mux, "GET /sessions/{id}", reply(200, tt.body))
				_, err := c.Session(context.Background(), "ws-1")
				checkErr(t, err, generic.ErrInvalidResponse)
				checkErr(t, err, tt.wantErr)
				checkErr(t, err, "fetch session ws-1")
			})
		}
	})
}

var invalidSessions = []struct{ name, body, wantErr string }{
	{"OtherID", strings.Replace(specSession, `"ws-1"`, `"ws-2"`, 1), `session "ws-2"`},
	{"EmptyID", strings.Replace(specSession, `"ws-1"`, `""`, 1), "id missing"},
	{"StatusMissing", strings.Replace(specSession, `"status":"active",`, ``, 1), "status missing"},
	{"StartedAtMissing", strings.Replace(specSession, `"started_at":"2024-06-03T12:00:00+03:00",`, ``, 1), "started_at missing"},
	{"StartedAtNull", strings.Replace(specSession, `"2024-06-03T12:00:00+03:00"`, `null`, 1), "started_at missing"},
	{"StartedAtFuture", strings.Replace(specSession, `"2024-06-03T12:00:00+03:00"`, `"2024-06-06T12:00:00+03:00"`, 1), "in the future"},
	{"StartedAtAncient", strings.Replace(specSession, `"2024-06-03T12:00:00+03:00"`, `"0000-01-01T00:00:00Z"`, 1), "before 1970"},
	{"StartedAtNotATime", strings.Replace(specSession, `"2024-06-03T12:00:00+03:00"`, `"yesterday"`, 1), "malformed JSON"},
	{"StatusWrongType", strings.Replace(specSession, `"active"`, `5`, 1), "malformed JSON"},
	{"LiveChatsWrongType", strings.Replace(specSession, `"live_chats":[`, `"live_chats":{"x":[`, 1), "malformed JSON"},
	{"LiveChatWithoutID", strings.Replace(specSession, `"lc-2"`, `""`, 1), "live_chats[1]: id missing"},
	{"AgentJoinedInFuture", strings.Replace(specSession, `"2024-06-03T09:05:00Z","left_at":null`, `"2031-01-01T00:00:00Z","left_at":null`, 1), "agents[1]: joined_at"},
	{"TopLevelNull", `null`, "not a JSON object"},
	{"TopLevelArray", `[]`, "not a JSON object"},
	{"Truncated", `{"id":"ws-1","status":`, "malformed"},
}

func TestClient_Messages(t *testing.T) {
	tests := []struct {
		name     string
		after    int64
		bodies   []string
		wantSeqs []int64
		wantErr  any
	}{
		{"SinglePage", 0, []string{msgPage(false, 1, 2, 3)}, []int64{1, 2, 3}, nil},
		{"Empty", 0, []string{`{"messages":[],"has_more":false}`}, nil, nil},
		{"NullMessages", 7, []string{`{"messages":null,"has_more":false}`}, nil, nil},
		{"SeveralPages", 0, []string{msgPage(true, 1, 2), msgPage(true, 3, 4), msgPage(false, 5)}, []int64{1, 2, 3, 4, 5}, nil},
		{"AfterCursor", 2, []string{msgPage(false, 3, 4)}, []int64{3, 4}, nil},
		{"UnsortedPageSorted", 0, []string{msgPage(false, 3, 1, 2)}, []int64{1, 2, 3}, nil},
		{"DuplicatesAtPageEdge", 0, []string{msgPage(true, 1, 2), msgPage(true, 2, 3), msgPage(false, 3, 4)}, []int64{1, 2, 3, 4}, nil},
		{"AfterRepeatedOnLastPage", 4, []string{msgPage(false, 4)}, nil, nil},
		{"HasMoreWithEmptyPage", 0, []string{msgPage(true, 1), `{"messages":[],"has_more":true}`}, nil, "has_more after a page with no message past seq 1"},
		{"SeqsDoNotAdvance", 2, []string{msgPage(true, 1, 2)}, nil, "no message past seq 2"},
		{"ServerIgnoresAfter", 0, []string{msgPage(true, 1, 2), msgPage(true, 1, 2)}, nil, generic.ErrInvalidResponse},
		{"SeqZero", 0, []string{msgPage(false, 0, 1)}, nil, "seq 0 is out of range"},
		{"SeqNegative", 0, []string{msgPage(false, -3)}, nil, "out of range"},
		{"SeqEnormous", 0, []string{msgPage(false, 1, 5_000_000_000_000)}, nil, "out of range"},
		{"SeqRepeatedOnPage", 0, []string{msgPage(false, 1, 2, 2)}, nil, "seq 2 appears twice"},
		{"SeqWrongType", 0, []string{`{"messages":[{"seq":"1","sent_at":"2024-06-03T09:00:01Z","text":"x"}]}`}, nil, "malformed JSON"},
		{"SeqFraction", 0, []string{`{"messages":[{"seq":1.5,"sent_at":"2024-06-03T09:00:01Z","text":"x"}]}`}, nil, "malformed JSON"},
		{"SentAtMissing", 0, []string{`{"messages":[{"seq":1,"text":"x"}],"has_more":false}`}, nil, "message seq 1: sent_at missing"},
		{"SentAtFuture", 0, []string{`{"messages":[{"seq":1,"sent_at":"2030-01-01T00:00:00Z","text":"x"}]}`}, nil, "in the future"},
		{"TextOverCap", 0, []string{`{"messages":[{"seq":1,"sent_at":"2024-06-03T09:00:01Z","text":"` + strings.Repeat("x", 101) + `"}]}`}, nil, "text of 101 bytes is over the cap of 100"},
		{"BodyIsArray", 0, []string{`[]`}, nil, "not a JSON object"},
		{"MessagesWrongType", 0, []string{`{"messages":{"seq":1}}`}, nil, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t, func(o *generic.Options) { o.PageSize = 2; o.MaxTextBytes = 100 })
			var afters []string
			next := replies(tt.bodies...)
			handle(t, mux, "GET /sessions/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("id") != "ws-1" || r.FormValue("limit") != "2" {
					t.Errorf("request %s, want session ws-1 and limit 2", r.URL)
				}
				afters = append(afters, r.FormValue("after"))
				next(w, r)
			})
			got, _, err := c.Messages(context.Background(), "ws-1", cursorOf(tt.after))
			checkErr(t, err, tt.wantErr)
			if err != nil {
				checkErr(t, err, "fetch messages of ws-1")
				if len(afters) > len(tt.bodies) {
					t.Errorf("%d requests for %d pages", len(afters), len(tt.bodies))
				}
				return
			}
			if gotSeqs := seqs(got); !reflect.DeepEqual(gotSeqs, tt.wantSeqs) {
				t.Errorf("seqs = %v, want %v", gotSeqs, tt.wantSeqs)
			}
			if len(afters) != len(tt.bodies) {
				t.Errorf("%d requests (after=%v), want %d", len(afters), afters, len(tt.bodies))
			}
		})
	}
}

func TestClient_Messages_SpecShape(t *testing.T) {
	c, mux := setup(t)
	handle(t, mux, "GET /sessions/{id}/messages", reply(200, `{"messages":[
	  {"seq":1,"id":"m-1","sent_at":"2024-06-03T12:00:01+03:00","sender":{"type":"bot","id":"b-1","name":"Botti","email":""},
	   "live_chat_id":null,"text":"Hi, I'm Botti","reactions":[]},
	  {"seq":2,"id":"m-2","sent_at":"2024-06-03T09:02:55Z","sender":{"type":"agent","id":"a-1","name":"Ann Agent","email":"ann@example.com","avatar":"x"},
	   "live_chat_id":"lc-1","text":"Let me check\nplease wait"}],
	 "has_more":false,"total":2}`))
	got, _, err := c.Messages(context.Background(), "ws-1", cursorOf(0))
	checkErr(t, err, nil)
	want := []aggregate.Message{
		{Seq: 1, ID: "m-1", SentAt: at(1), Sender: aggregate.Sender{Type: aggregate.SenderBot, ID: "b-1", Name: "Botti"}, Text: "Hi, I'm Botti"},
		{Seq: 2, ID: "m-2", SentAt: at(175), Sender: aggregate.Sender{Type: aggregate.SenderAgent, ID: "a-1", Name: "Ann Agent", Email: "ann@example.com"},
			LiveChatID: "lc-1", Text: "Let me check\nplease wait"},
	}
	if !reflect.DeepEqual(inUTCMsgs(got), want) {
		t.Errorf("Messages =\n%+v\nwant\n%+v", got, want)
	}
}

func TestClient_Messages_InvalidUTF8Sanitised(t *testing.T) {
	c, mux := setup(t)
	handle(t, mux, "GET /sessions/{id}/messages",
		reply(200, "{\"messages\":[{\"seq\":1,\"sent_at\":\"2024-06-03T09:00:01Z\",\"text\":\"ok \xff\xfe done \\ud800\"}]}"))
	got, _, err := c.Messages(context.Background(), "ws-1", cursorOf(0))
	checkErr(t, err, nil)
	if len(got) != 1 || got[0].Text != "ok \uFFFD\uFFFD done \uFFFD" {
		t.Errorf("Messages = %+v, want the text with replacement characters", got)
	}
}

func TestClient_Messages_Errors(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		after   int64
		handler http.HandlerFunc
		want    any
	}{
		{"NotFound", "ws-1", 0, reply(404, `{"error":"unknown session"}`), generic.ErrSessionNotFound},
		{"Unauthorized", "ws-1", 0, reply(401, `{"error":"token expired"}`), generic.ErrUnauthorized},
		{"NegativeAfter", "ws-1", -1, reply(200, msgPage(false, 1)), `cursor "-1" is not a seq`},
		{"EmptyID", "", 0, reply(200, msgPage(false, 1)), "session id missing"},
		{"ControlCharInID", "ws\n1", 0, reply(200, msgPage(false, 1)), "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			handle(t, mux, "/", tt.handler)
			_, _, err := c.Messages(context.Background(), tt.id, cursorOf(tt.after))
			checkErr(t, err, tt.want)
			checkErr(t, err, "fetch messages of")
		})
	}
}

func TestClient_Messages_MaxPages(t *testing.T) {
	c, mux := setup(t, func(o *generic.Options) { o.MaxPages = 5 })
	// An endless transcript: every page advances, none is the last.
	hits := handle(t, mux, "GET /sessions/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		var after int64
		fmt.Sscan(r.FormValue("after"), &after)
		reply(200, msgPage(true, after+1))(w, r)
	})
	_, _, err := c.Messages(context.Background(), "ws-1", cursorOf(0))
	checkErr(t, err, "more than 5 pages")
	if n := hits.Load(); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
}

func msgPage(more bool, seqs ...int64) string {
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	for i, s := range seqs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"seq":%d,"id":"m-%d","sent_at":"2024-06-03T09:00:%02dZ","sender":{"type":"visitor","id":"u-9","name":"Maija","email":"maija@example.com"},"live_chat_id":null,"text":"message %d"}`,
			s, s, max(s%60, 0), s)
	}
	fmt.Fprintf(&b, `],"has_more":%v}`, more)
	return b.String()
}

func seqs(msgs []aggregate.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}
