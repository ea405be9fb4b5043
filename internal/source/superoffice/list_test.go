package superoffice_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/superoffice"
)

// TestAuth sends the token as the configured scheme with the app token,
// tries a 401 once more, and says ErrUnauthorized after the second.
// Neither secret shows in an error, even when the server echoes them.
func TestAuth(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.sessions["1"] = so(1, nil)
	c := w.client(nil, nil, func(o *superoffice.Options) {
		o.AuthScheme, o.AppToken = superoffice.SchemeSOTicket, "app-secret"
	})
	if _, err := c.Session(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	h := w.headers[0]
	if h.Get("Authorization") != "SOTicket tok-secret" || h.Get("SO-AppToken") != "app-secret" || h.Get("Accept") != "application/json" {
		t.Errorf("headers %v", h)
	}
	if _, err := w.client(nil, nil).Session(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if h := w.headers[len(w.headers)-1]; h.Get("Authorization") != "Bearer tok-secret" || h.Get("SO-AppToken") != "" {
		t.Errorf("Bearer headers %v", h)
	}

	refusals := 1
	w.answer = func(*http.Request) int {
		if refusals > 0 {
			refusals--
			return http.StatusUnauthorized
		}
		return 0
	}
	if _, err := c.Session(ctx, "1"); err != nil {
		t.Errorf("one 401, then an answer: %v", err)
	}
	w.answer = func(*http.Request) int { return http.StatusUnauthorized }
	_, err := c.Session(ctx, "1")
	if !errors.Is(err, source.ErrUnauthorized) {
		t.Errorf("401 twice: %v, want source.ErrUnauthorized", err)
	}
	w.answer = func(*http.Request) int { return http.StatusBadRequest }
	_, err = c.Session(ctx, "1")
	var apiErr *superoffice.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Type != "SoException" {
		t.Errorf("400: %v, want an APIError with its ErrorType", err)
	}
	for _, secret := range []string{"tok-secret", "app-secret"} {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a secret: %v", err)
		}
	}
	w.answer = func(*http.Request) int { return http.StatusServiceUnavailable }
	if _, err := c.Session(ctx, "1"); !errors.Is(err, source.ErrUnavailable) {
		t.Errorf("503: %v, want source.ErrUnavailable", err)
	}
	w.answer = func(*http.Request) int { return http.StatusTooManyRequests }
	var rl *superoffice.RateLimitError
	if _, err := c.Session(ctx, "1"); !errors.Is(err, source.ErrUnavailable) || !errors.As(err, &rl) {
		t.Errorf("429: %v, want a RateLimitError", err)
	}
}

func TestNew_Refuses(t *testing.T) {
	t.Parallel()
	for _, o := range []superoffice.Options{
		{BaseURL: "ftp://x", Token: "t"},
		{BaseURL: "https://x/api/v1?q=1", Token: "t"},
		{BaseURL: "https://x/api/v1", Token: " "},
		{BaseURL: "https://x/api/v1", Token: "a b"},
		{BaseURL: "https://x/api/v1", Token: "t", AuthScheme: "Basic"},
		{BaseURL: "https://x/api/v1", Token: "t", AppToken: "a\nb"},
	} {
		if _, err := superoffice.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		} else if strings.Contains(err.Error(), "a\nb") {
			t.Errorf("New shows the app token: %v", err)
		}
	}
}

// page is an archive page of rows (id, status, updatedDate) and next.
func page(next string, rows ...[3]string) string {
	var vals []string
	for _, r := range rows {
		vals = append(vals, `{"PrimaryKey":"`+r[0]+`","EntityName":"chat","chatSessionId":"`+r[0]+`","status":`+r[1]+
			`,"whenRequested":"2024-06-03T09:00:00","whenEnded":"","updatedDate":"`+r[2]+`"}`)
	}
	s := `{"odata.metadata":"x","value":[` + strings.Join(vals, ",") + `]`
	if next != "" {
		s += `,"odata.nextLink":"` + next + `"`
	}
	return s + "}"
}

// TestListChanges pages through the archive by odata.nextLink, and by
// $skip after a full page without one; it filters with afterTime on the
// second before since, and reads ids and statuses in any of their forms.
func TestListChanges(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	base := w.srv.URL + apiRoot + "/ChatSession"
	filter := "updatedDate afterTime '2024-06-03T08:59:59'"
	first := url.Values{"$select": {"chatSessionId,status,whenRequested,whenEnded,updatedDate"}, "$filter": {filter},
		"$orderBy": {"chatSessionId"}, "$top": {"2"}}
	w.pages[first.Encode()] = page(base+"?page=2", [3]string{"1", `"UserLast"`, "2024-06-03T09:00:00"},
		[3]string{"2", `7`, "2024-06-03T09:10:00"})
	w.pages["page=2"] = page("", [3]string{"2", `"Closed"`, "2024-06-03T09:10:00"}, [3]string{"3", `"Waiting for customer"`, ""})
	second := url.Values{}
	for k, v := range first {
		second[k] = v
	}
	second.Set("$skip", "4")
	w.pages[second.Encode()] = page("", [3]string{"4", `"11"`, "2024-06-03T10:00:00"})
	c := w.client(nil, nil)
	var got []string
	err := c.ListChanges(ctx, time.Date(2024, 6, 3, 9, 0, 0, 500, time.UTC), func(l source.Listed) error {
		got = append(got, l.ID+" "+string(l.Status)+" "+l.UpdatedAt.Format("15:04"))
		return nil
	})
	want := []string{"1 active 09:00", "2 ended 09:10", "3 active 00:00", "4 ended 10:00"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ListChanges = %v, %v; want %v", got, err, want)
	}
	// Session reports the updatedDate the listing showed.
	w.sessions["2"] = so(2, nil)
	if s, err := c.Session(ctx, "2"); err != nil || !s.UpdatedAt.Equal(time.Date(2024, 6, 3, 9, 10, 0, 0, time.UTC)) {
		t.Errorf("Session after the listing: updated %v, %v", s.UpdatedAt, err)
	}
}

func TestListChanges_BadPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		next func(base string) string
		says string
	}{
		{"foreign host", func(string) string { return "https://evil.example/Cust1/api/v1/ChatSession?x=1" }, "not a ChatSession listing"},
		{"other path", func(base string) string { return strings.Replace(base, "ChatSession", "Person", 1) }, "not a ChatSession listing"},
		{"repeated link", func(base string) string { return base + "?same=1" }, "repeats"},
	}
	for _, tt := range tests {
		w := newWire(t)
		base := w.srv.URL + apiRoot + "/ChatSession"
		w.pages["*"] = page(tt.next(base), [3]string{"1", `"UserLast"`, "2024-06-03T09:00:00"})
		w.pages["same=1"] = page(base+"?same=1", [3]string{"2", `"UserLast"`, "2024-06-03T09:00:00"})
		err := w.client(nil, nil).ListChanges(ctx, time.Time{}, func(source.Listed) error { return nil })
		if !errors.Is(err, source.ErrInvalid) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tt.name, err, tt.says)
		}
	}
	// A server that ignores $skip repeats its page: stopped, not looped.
	w := newWire(t)
	w.pages["*"] = page("", [3]string{"1", `"UserLast"`, ""}, [3]string{"2", `"UserLast"`, ""})
	err := w.client(nil, nil).ListChanges(ctx, time.Time{}, func(source.Listed) error { return nil })
	if !errors.Is(err, source.ErrInvalid) || w.hit("ChatSession") != 2 {
		t.Errorf("a repeated page: %v after %d requests, want ErrInvalid after 2", err, w.hit("ChatSession"))
	}
	// One garbled row does not stop the listing.
	w = newWire(t)
	w.pages["*"] = `{"value":[{"chatSessionId":5,"status":{},"updatedDate":"garbage"}]}`
	var ids []string
	err = w.client(nil, nil).ListChanges(ctx, time.Time{}, func(l source.Listed) error { ids = append(ids, l.ID); return nil })
	if err != nil || !slices.Equal(ids, []string{"5"}) {
		t.Errorf("a garbled row: %v, %v; want [5]", ids, err)
	}
}

func TestListSessions_Until(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.pages["*"] = `{"value":[{"chatSessionId":1,"whenRequested":"2024-05-31T23:00:00"},{"chatSessionId":2,"whenRequested":"2024-06-01T00:00:00"}]}`
	var ids []string
	err := w.client(nil, nil, func(o *superoffice.Options) { o.PageSize = 10 }).ListSessions(ctx, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), func(l source.Listed) error { ids = append(ids, l.ID); return nil })
	if err != nil || !slices.Equal(ids, []string{"1"}) {
		t.Errorf("ListSessions until June = %v, %v; want [1]", ids, err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	w := newWire(t)
	w.pages["*"] = `{"value":[{"PrimaryKey":9,"chatSessionId":9}]}`
	w.sessions["9"] = so(9, nil)
	if err := w.client(nil, nil).Check(ctx); err != nil {
		t.Fatal(err)
	}
	if w.hit("ChatSession") != 2 || w.hit("ChatSession/Messages") != 1 {
		t.Errorf("Check made %v requests", w.hits)
	}
	w.answer = func(*http.Request) int { return http.StatusUnauthorized }
	if err := w.client(nil, nil).Check(ctx); !errors.Is(err, source.ErrUnauthorized) {
		t.Errorf("Check with a refused token: %v", err)
	}
	empty := newWire(t)
	empty.pages["*"] = `{"value":[]}`
	if err := empty.client(nil, nil).Check(ctx); err != nil {
		t.Errorf("Check of a tenant with no chat: %v", err)
	}
}
