package generic_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/generic"
)

// specSessionPage is GET /sessions as SPEC §4.1 shows it, with members the
// listing does not promise (customer) and the client does not know (extra).
const specSessionPage = `{"sessions":[
  {"id":"ws-1","status":"active","started_at":"2024-06-03T09:00:00Z","ended_at":null,"updated_at":"2024-06-03T09:06:00Z",
   "customer":{"id":"u-9","name":"Maija"},"extra":1},
  {"id":"ws-2","status":"ended","started_at":"2024-06-03T08:00:00Z","ended_at":"2024-06-03T12:07:00+03:00","updated_at":"2024-06-03T09:07:00Z"}],
 "next_cursor":"","total":2}`

func TestClient_ListSessions_SpecShape(t *testing.T) {
	c, mux := setup(t)
	handle(t, mux, "GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		want := "limit=200&updated_since=2024-06-03T09%3A00%3A00.5Z"
		if r.URL.RawQuery != want {
			t.Errorf("query = %s, want %s", r.URL.RawQuery, want)
		}
		reply(200, specSessionPage)(w, r)
	})
	var got []source.Listed
	since := time.Date(2024, 6, 3, 12, 0, 0, 5e8, time.FixedZone("EEST", 3*3600))
	err := c.ListChanges(context.Background(), since, func(s source.Listed) error {
		s.StartedAt, s.UpdatedAt = s.StartedAt.UTC(), s.UpdatedAt.UTC()
		got = append(got, s)
		return nil
	})
	checkErr(t, err, nil)
	want := []source.Listed{
		{ID: "ws-1", Status: aggregate.StatusActive, StartedAt: at(0), UpdatedAt: at(360)},
		{ID: "ws-2", Status: aggregate.StatusEnded, StartedAt: at(-3600), UpdatedAt: at(420)},
	}
	if !slices.EqualFunc(got, want, func(a, b source.Listed) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Errorf("listed\n%+v\nwant\n%+v", got, want)
	}
}

func TestClient_ListSessions(t *testing.T) {
	tests := []struct {
		name      string
		pages     map[string]string // cursor → body
		wantIDs   []string
		wantCalls int
		wantErr   any
	}{
		{"SinglePage", map[string]string{"": sessPage("", "ws-1")}, []string{"ws-1"}, 1, nil},
		{"Empty", map[string]string{"": `{"sessions":[],"next_cursor":""}`}, nil, 1, nil},
		{"EmptyObject", map[string]string{"": `{}`}, nil, 1, nil},
		{"SeveralPages", map[string]string{
			"":   sessPage("c1", "ws-1", "ws-2"),
			"c1": sessPage("c2", "ws-3", "ws-4"),
			"c2": sessPage("", "ws-5"),
		}, []string{"ws-1", "ws-2", "ws-3", "ws-4", "ws-5"}, 3, nil},
		{"DuplicatesAtPageEdge", map[string]string{
			"":   sessPage("c1", "ws-1", "ws-2"),
			"c1": sessPage("c2", "ws-2", "ws-3"),
			"c2": sessPage("", "ws-3", "ws-4"),
		}, []string{"ws-1", "ws-2", "ws-3", "ws-4"}, 3, nil},
		{"DuplicateOnOnePage", map[string]string{"": sessPage("", "ws-1", "ws-1")}, []string{"ws-1"}, 1, nil},
		{"RepeatedCursor", map[string]string{
			"":   sessPage("c1", "ws-1"),
			"c1": sessPage("c1", "ws-2"),
		}, []string{"ws-1"}, 2, "next_cursor repeats an earlier cursor"},
		{"CursorCycle", map[string]string{
			"":   sessPage("c1", "ws-1"),
			"c1": sessPage("c2", "ws-2"),
			"c2": sessPage("c1", "ws-3"),
		}, []string{"ws-1", "ws-2"}, 3, "next_cursor repeats"},
		{"CursorAfterEmptyPage", map[string]string{
			"":   sessPage("c1", "ws-1"),
			"c1": `{"sessions":[],"next_cursor":"c2"}`,
		}, []string{"ws-1"}, 2, "next_cursor after an empty page"},
		{"IDMissing", map[string]string{"": sessPage("", "ws-1", "")}, nil, 1, `sessions[1] "": id missing`},
		{"IDTooLong", map[string]string{"": sessPage("", strings.Repeat("x", 300))}, nil, 1, "longer than 256 bytes"},
		// One garbled entry must not stop the listing: its id is kept and
		// what does not check is left zero (fetching the session reports it).
		{"StatusMissingKept", map[string]string{"": `{"sessions":[{"id":"ws-1","started_at":"2024-06-03T09:00:00Z"},{"id":"ws-2","status":"active","started_at":"2024-06-03T09:00:00Z"}]}`}, []string{"ws-1", "ws-2"}, 1, nil},
		{"StartedAtMissingKept", map[string]string{"": `{"sessions":[{"id":"ws-1","status":"active"}]}`}, []string{"ws-1"}, 1, nil},
		{"UpdatedAtFutureKept", map[string]string{"": `{"sessions":[{"id":"ws-1","status":"active","started_at":"2024-06-03T09:00:00Z","updated_at":"2099-01-01T00:00:00Z"}]}`}, []string{"ws-1"}, 1, nil},
		{"GarbledTimeKept", map[string]string{"": `{"sessions":[{"id":"ws-1","status":"active","started_at":"yesterday"},{"id":"ws-2","status":7}]}`}, []string{"ws-1", "ws-2"}, 1, nil},
		{"WrongTypeOfID", map[string]string{"": `{"sessions":[{"id":7}]}`}, nil, 1, "malformed JSON"},
		{"CursorWrongType", map[string]string{"": `{"sessions":[],"next_cursor":1}`}, nil, 1, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			hits := handle(t, mux, "GET /sessions", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Has("updated_since") {
					t.Errorf("updated_since sent for a zero since: %s", r.URL.RawQuery)
				}
				body, ok := tt.pages[r.FormValue("cursor")]
				if !ok {
					t.Errorf("unexpected cursor %q", r.FormValue("cursor"))
				}
				reply(200, body)(w, r)
			})
			var got []string
			err := c.ListChanges(context.Background(), time.Time{}, func(s source.Listed) error {
				got = append(got, s.ID)
				return nil
			})
			checkErr(t, err, tt.wantErr)
			if err != nil {
				checkErr(t, err, generic.ErrInvalidResponse)
				checkErr(t, err, "list sessions")
			}
			if !slices.Equal(got, tt.wantIDs) {
				t.Errorf("listed %v, want %v", got, tt.wantIDs)
			}
			if n := int(hits.Load()); n != tt.wantCalls {
				t.Errorf("%d requests, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestClient_ListSessions_CallbackStops(t *testing.T) {
	c, mux := setup(t)
	hits := handle(t, mux, "GET /sessions", reply(200, sessPage("c1", "ws-1", "ws-2")))
	errStop := errors.New("stop")
	var calls int
	err := c.ListChanges(context.Background(), time.Time{}, func(source.Listed) error {
		calls++
		return errStop
	})
	if err != errStop {
		t.Errorf("err = %v, want the callback's error as is", err)
	}
	if calls != 1 || hits.Load() != 1 {
		t.Errorf("%d callbacks and %d requests after the callback failed, want 1 and 1", calls, hits.Load())
	}
}

func TestClient_ListSessions_Streams(t *testing.T) {
	c, mux := setup(t)
	var seen atomic.Int32
	handle(t, mux, "GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("cursor") == "c1" {
			if n := seen.Load(); n != 2 {
				t.Errorf("page 2 requested after %d callbacks, want the 2 of page 1 first", n)
			}
			reply(200, sessPage("", "ws-3"))(w, r)
			return
		}
		reply(200, sessPage("c1", "ws-1", "ws-2"))(w, r)
	})
	err := c.ListChanges(context.Background(), time.Time{}, func(source.Listed) error {
		seen.Add(1)
		return nil
	})
	checkErr(t, err, nil)
	if seen.Load() != 3 {
		t.Errorf("%d callbacks, want 3", seen.Load())
	}
}

func TestClient_ListSessions_MaxPages(t *testing.T) {
	c, mux := setup(t, func(o *generic.Options) { o.MaxPages = 3 })
	var n atomic.Int32
	hits := handle(t, mux, "GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		reply(200, sessPage(fmt.Sprint("c", i), fmt.Sprint("ws-", i)))(w, r)
	})
	err := c.ListChanges(context.Background(), time.Time{}, func(source.Listed) error { return nil })
	checkErr(t, err, "more than 3 pages")
	if hits.Load() != 3 {
		t.Errorf("%d requests, want 3", hits.Load())
	}
}

func TestClient_ListSessionsPage(t *testing.T) {
	c, mux := setup(t, func(o *generic.Options) { o.PageSize = 2 })
	handle(t, mux, "GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("cursor") != "abc" || r.FormValue("limit") != "2" {
			t.Errorf("query = %s, want cursor abc and limit 2", r.URL.RawQuery)
		}
		reply(200, sessPage("def", "ws-1", "ws-2"))(w, r)
	})
	got, next, err := c.ListSessionsPage(context.Background(), time.Time{}, "abc")
	checkErr(t, err, nil)
	if len(got) != 2 || got[1].ID != "ws-2" || next != "def" {
		t.Errorf("ListSessionsPage = %v, %q; want ws-1, ws-2 and def", got, next)
	}
}

// sessPage is a page of the listing with the given ids and next cursor.
func sessPage(next string, ids ...string) string {
	var b strings.Builder
	b.WriteString(`{"sessions":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%q,"status":"active","started_at":"2024-06-03T09:00:00Z","ended_at":null,"updated_at":"2024-06-03T09:0%d:00Z"}`, id, i)
	}
	fmt.Fprintf(&b, `],"next_cursor":%q}`, next)
	return b.String()
}
