package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests in this file hold the sandbox ESM to shapes of Efecte's
// published OpenAPI document that SPEC §4.2 leaves out.

func TestESM_LoginAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		style              LoginTokenStyle
		wantBody, wantHead string // "bearer", "bare" or "" for absent
	}{
		{"Bearer", TokenBearer, "bearer", "bearer"},
		{"Bare", TokenBare, "bare", "bare"},
		{"HeaderOnly", TokenHeaderOnly, "", "bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{LoginToken: tt.style})
			form := url.Values{"login": {DefaultLogin}, "password": {DefaultPassword}}
			r := f.do("POST", ESMPrefix+"/users/login", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
			var body struct {
				Code      int
				Message   string
				Timestamp string
				Token     *string
			}
			r.decode(t, &body)
			if _, err := time.Parse(time.RFC3339, body.Timestamp); body.Code != 200 || body.Message == "" || err != nil {
				t.Errorf("body %s: want code 200, a message and an RFC 3339 timestamp", r.body)
			}
			token := ""
			if body.Token != nil {
				token = *body.Token
			}
			if got := tokenForm(token); got != tt.wantBody {
				t.Errorf("body token %q is %q, want %q", token, got, tt.wantBody)
			}
			if got := tokenForm(r.header.Get("Authorization")); got != tt.wantHead {
				t.Errorf("header %q is %q, want %q", r.header.Get("Authorization"), got, tt.wantHead)
			}
			jwt := strings.TrimPrefix(r.header.Get("Authorization"), "Bearer ")
			if r := f.esm("GET", "/dc/chat_session", "Bearer "+jwt, nil); r.status != http.StatusOK {
				t.Errorf("the token does not work: %d", r.status)
			}
		})
	}
}

func tokenForm(s string) string {
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(s, "Bearer ") && strings.Count(s, ".") == 2:
		return "bearer"
	case strings.Count(s, ".") == 2:
		return "bare"
	}
	return "other"
}

func TestESM_ErrorBodyIsApiException(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	r := f.esm("GET", "/dc/chat_session/data/999", f.login(), nil)
	var e map[string]any
	r.decode(t, &e)
	want := map[string]any{"code": float64(404), "message": "data card not found", "error": "Not Found",
		"url": f.ts.URL + ESMPrefix + "/dc/chat_session/data/999", "timestamp": "2024-06-03T12:00:00Z"}
	if fmt.Sprint(e) != fmt.Sprint(want) {
		t.Errorf("error body %v\nwant %v", e, want)
	}
}

func TestESM_StaticValueWithoutCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{Inactive: StaticValue{Value: "No"}})
	id := must[string](t)(f.CreateChatSessionCard("ws-1"))
	patch := map[string]any{"data": map[string]any{"is_chat_active": map[string]any{
		"values": []any{map[string]any{"value": "No", "code": nil}}}}}
	tok := f.login()
	if r := f.esm("PATCH", "/dc/chat_session/data/"+id, tok, patch); r.status != 200 || strings.Contains(string(r.body), "attributeCode") {
		t.Fatalf("PATCH with code null: %d %s", r.status, r.body)
	}
	r := f.esm("GET", "/dc/chat_session/data/"+id, tok, nil)
	if want := `"values":[{"code":null,"value":"No"}]`; !strings.Contains(string(r.body), want) {
		t.Errorf("card lacks %s:\n%s", want, r.body)
	}
}

func TestESM_NextLinkNamesLinkBase(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{LinkBaseURL: "https://proxy.example/efecte/api/v1/"})
	for i := range 3 {
		must[string](t)(f.CreateChatSessionCard(fmt.Sprintf("ws-%d", i)))
	}
	var p cardPage
	f.esm("GET", "/dc/chat_session/data?limit=2", f.login(), nil).decode(t, &p)
	if next := p.Meta.Links["next"]; !strings.HasPrefix(next, "https://proxy.example/efecte/api/v1/dc/chat_session/data?") {
		t.Errorf("next %q, want it on the link base", next)
	}
}

// streamPage is the stream's answer; meta comes after data.
type streamPage struct {
	Data []struct {
		DataCardID string
		Name       string
		URL        string
		Data       map[string]struct{ Values []map[string]any }
	}
	Meta struct{ Count int }
}

func TestESM_Stream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	if _, err := f.Generate(GenOptions{Sessions: 450, MessagesPerSession: 2, Seed: 1, Start: t0}); err != nil {
		t.Fatal(err)
	}
	cards := f.SessionCards()
	for _, c := range cards[:50] {
		if err := f.SetCard(c.ID, map[string][]Value{"is_chat_active": {Static(f.Options().Inactive)}}); err != nil {
			t.Fatal(err)
		}
	}
	tok := f.login()
	filter := url.QueryEscape("$is_chat_active$ = 'Yes'")
	paged, _ := listCards(t, f, tok, ESMPrefix+"/dc/chat_session/data?limit=200&dataCards=true&filter="+filter)

	t.Run("SameCardsAsPaging", func(t *testing.T) {
		r := f.esm("GET", "/dc/chat_session/data/stream?dataCards=true&selectedAttributes=chat_session_id&filter="+filter, tok, nil)
		var p streamPage
		r.decode(t, &p)
		var ids []string
		for _, c := range p.Data {
			ids = append(ids, c.DataCardID)
			if len(c.Data) != 1 || len(c.Data["chat_session_id"].Values) != 1 {
				t.Fatalf("card %s: attributes %v, want chat_session_id alone", c.DataCardID, c.Data)
			}
		}
		if !slices.Equal(ids, paged) || p.Meta.Count != len(paged) || len(paged) != 400 {
			t.Errorf("stream: %d ids (count %d), paging %d", len(ids), p.Meta.Count, len(paged))
		}
		if !strings.HasPrefix(string(r.body), `{"data":[`) || r.header.Get("Content-Length") != "" {
			t.Errorf("want a chunked answer starting with data; Content-Length %q", r.header.Get("Content-Length"))
		}
	})
	t.Run("InfoElements", func(t *testing.T) {
		var p streamPage
		f.esm("GET", "/dc/chat_session/data/stream?filter="+filter, tok, nil).decode(t, &p)
		if len(p.Data) != 400 || p.Data[0].URL != "/dc/chat_session/data/"+p.Data[0].DataCardID || p.Data[0].Data != nil {
			t.Errorf("first of %d info elements: %+v", len(p.Data), p.Data[0])
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		r := f.esm("GET", "/dc/chat_session/data/stream?filter="+url.QueryEscape("$chat_session_id$ = 'none'"), tok, nil)
		if r.status != http.StatusOK || string(r.body) != `{"data":[],"meta":{"count":0}}` {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("BadFilter", func(t *testing.T) {
		if r := f.esm("GET", "/dc/chat_session/data/stream?filter=nonsense", tok, nil); r.status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", r.status)
		}
	})
}

func TestESM_WithoutStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{WithoutStream: true})
	must[string](t)(f.CreateChatSessionCard("ws-1"))
	if r := f.esm("GET", "/dc/chat_session/data/stream", f.login(), nil); r.status != http.StatusNotFound {
		t.Errorf("status %d, want 404", r.status)
	}
	if f.Count(RouteStreamCards) != 0 || f.Count(RouteGetCard) != 1 {
		t.Errorf("counts %v: the path should read as a card id", f.Counts())
	}
}

// blockingWriter is a ResponseWriter whose writes wait until released, as
// a client that stopped reading makes them.
type blockingWriter struct {
	header  http.Header
	wrote   chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(b []byte) (int, error) {
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	<-w.release
	return len(b), nil
}

// TestESM_StreamHoldsNoLockWhileWriting shows that a client reading a
// stream slowly does not keep the cards from being written: the worker
// writes to cards while it still reads the stream.
func TestESM_StreamHoldsNoLockWhileWriting(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	if _, err := f.Generate(GenOptions{Sessions: 600, MessagesPerSession: 1, Seed: 1, Start: t0}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", ESMPrefix+"/dc/chat_session/data/stream?dataCards=true", nil)
	req.Header.Set("Authorization", f.login())
	w := &blockingWriter{header: http.Header{}, wrote: make(chan struct{}, 1), release: make(chan struct{})}
	done := make(chan struct{})
	go func() { f.ServeHTTP(w, req); close(done) }()
	<-w.wrote // the stream is blocked in a write
	id := f.SessionCards()[0].ID
	written := make(chan error, 1)
	go func() {
		written <- f.SetCard(id, map[string][]Value{"is_chat_active": {Static(f.Options().Inactive)}})
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a card write waited for a blocked stream")
	}
	close(w.release)
	<-done
}
