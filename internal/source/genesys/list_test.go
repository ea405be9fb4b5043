package genesys_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/genesys"
)

// list returns the domain ids ListSessions passes, in order.
func (f *fixture) list(t *testing.T, since, until time.Time) ([]string, error) {
	t.Helper()
	var got []string
	err := f.c.ListSessions(context.Background(), since, until, func(l source.Listed) error {
		id, ok := f.fake.DomainID(l.ID)
		if !ok {
			id = l.ID
		}
		if l.Status == aggregate.StatusEnded {
			id += "(ended)"
		}
		got = append(got, id)
		return nil
	})
	return got, err
}

func TestListSessions_WindowsAndPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *genesys.Options) { o.PageSize = 2 })
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	starts := map[string]time.Duration{
		"before":    -time.Hour,     // same day as since, before it
		"first":     10 * time.Hour, // since is 10:00
		"second":    10*time.Hour + time.Minute,
		"third":     30 * time.Hour,      // next day
		"fourth":    9 * 24 * time.Hour,  // beyond one 7-day window
		"fifth":     12 * 24 * time.Hour, // on the day of until, before it
		"too-late":  12*24*time.Hour + 2*time.Hour,
		"long-gone": -30 * 24 * time.Hour, // a month before
	}
	for id, d := range starts {
		s := aggregate.Session{ID: id, Status: aggregate.StatusActive, StartedAt: day.Add(d)}
		if id == "third" {
			s.Status, s.EndedAt = aggregate.StatusEnded, s.StartedAt.Add(time.Minute)
		}
		if err := f.sb.AddSession(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	since, until := day.Add(10*time.Hour), day.Add(12*24*time.Hour+time.Hour)
	got, err := f.list(t, since, until)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first", "second", "third(ended)", "fourth", "fifth"}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	// Two windows (7 days + the rest); the first window's page of 2 is
	// followed by more pages until totalHits is reached.
	if n := f.sb.Count(sandbox.RouteGenesysQuery); n < 3 {
		t.Errorf("%d queries, want at least 3 (paging)", n)
	}
	if _, err := f.list(t, time.Time{}, until); err == nil {
		t.Error("a listing without a start time was accepted")
	}
}

func TestListSessions_MessageTypes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conv := `{"id":"0b7d5c1e-8a5f-4f0e-9c1d-000000000001","startTime":"2024-05-02T08:00:00.000Z","participants":[
		{"id":"p1","purpose":"customer","messages":[{"id":"c1","type":"sms","messages":[]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "conversation.json"), []byte(conv), 0o600); err != nil {
		t.Fatal(err)
	}
	since, until := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		types []string
		want  int
	}{{nil, 0}, {[]string{"webmessaging", "sms"}, 1}} {
		f := newFixture(t, func(o *genesys.Options) { o.MessageTypes = tt.types })
		if err := f.fake.UpdateCase(dir); err != nil {
			t.Fatal(err)
		}
		got, err := f.list(t, since, until)
		if err != nil || len(got) != tt.want {
			t.Errorf("message types %v: %v, %v; want %d conversation", tt.types, got, err, tt.want)
		}
	}
}

func TestListSessions_RepeatedPageStops(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Platform: sandbox.PlatformGenesys, ChatToken: secret})
	page := `{"conversations":[{"conversationId":"a","conversationStart":"2024-05-02T08:00:00.000Z"},
		{"conversationId":"b","conversationStart":"2024-05-02T08:00:01.000Z"}],"totalHits":1000000}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/details/query") {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(page))
			return
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, secret, func(o *genesys.Options) { o.PageSize = 2 })
	n := 0
	err := c.ListSessions(context.Background(), time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC),
		func(source.Listed) error { n++; return nil })
	if !errors.Is(err, source.ErrInvalid) || n != 2 {
		t.Errorf("err = %v after %d conversations; want source.ErrInvalid after 2", err, n)
	}
}

func TestListSessions_CallbackErrorStops(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	start := time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC)
	for _, id := range []string{"x", "y"} {
		if err := f.sb.AddSession(aggregate.Session{ID: id, StartedAt: start}, nil); err != nil {
			t.Fatal(err)
		}
	}
	errStop := errors.New("stop")
	err := f.c.ListSessions(context.Background(), start.Add(-time.Hour), start.Add(time.Hour), func(source.Listed) error { return errStop })
	if err != errStop {
		t.Errorf("err = %v, want the callback's error as is", err)
	}
}
