package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestESM_Login(t *testing.T) {
	f := newFixture(t, Options{Login: "svc", Password: "pw", TokenTTL: time.Minute})
	tests := []struct {
		name string
		form url.Values
		want int
	}{
		{"good", url.Values{"login": {"svc"}, "password": {"pw"}}, http.StatusOK},
		{"wrong password", url.Values{"login": {"svc"}, "password": {"nope"}}, http.StatusUnauthorized},
		{"wrong login", url.Values{"login": {"x"}, "password": {"pw"}}, http.StatusUnauthorized},
		{"empty", url.Values{}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("POST", ESMPrefix+"/users/login", "", strings.NewReader(tt.form.Encode()), "application/x-www-form-urlencoded")
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			if r.status != http.StatusOK {
				return
			}
			var body struct{ Token string }
			r.decode(t, &body)
			if r.header.Get("Authorization") != body.Token {
				t.Errorf("header %q, body %q", r.header.Get("Authorization"), body.Token)
			}
			jwt, ok := strings.CutPrefix(body.Token, "Bearer ")
			parts := strings.Split(jwt, ".")
			if !ok || len(parts) != 3 {
				t.Fatalf("token %q is not Bearer <JWT>", body.Token)
			}
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			var claims struct{ Exp int64 }
			if err != nil || json.Unmarshal(payload, &claims) != nil {
				t.Fatalf("payload %q: %v", parts[1], err)
			}
			if want := f.clock.Now().Add(time.Minute).Unix(); claims.Exp != want {
				t.Errorf("exp %d, want %d", claims.Exp, want)
			}
		})
	}
}

func TestESM_TokenRefused(t *testing.T) {
	f := newFixture(t, Options{TokenTTL: time.Minute})
	tok := f.login()
	jwt := strings.TrimPrefix(tok, "Bearer ")
	parts := strings.Split(jwt, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":99999999999}`)) + "." + parts[2]
	tests := []struct {
		name    string
		auth    string
		advance time.Duration
		want    int
	}{
		{"valid", tok, 0, http.StatusOK},
		{"no token", "", 0, http.StatusUnauthorized},
		{"not a JWT", "Bearer abc", 0, http.StatusUnauthorized},
		{"forged payload", "Bearer " + forged, 0, http.StatusUnauthorized},
		{"still valid", tok, 59 * time.Second, http.StatusOK},
		{"expired", tok, time.Second, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Advance(tt.advance)
			if r := f.esm("GET", "/dc/chat_session", tt.auth, nil); r.status != tt.want {
				t.Errorf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
		})
	}
	t.Run("ExpireTokens", func(t *testing.T) {
		tok := f.login()
		f.ExpireTokens()
		if r := f.esm("GET", "/dc/chat_session", tok, nil); r.status != http.StatusUnauthorized {
			t.Errorf("status %d after ExpireTokens", r.status)
		}
		if r := f.esm("GET", "/dc/chat_session", f.login(), nil); r.status != http.StatusOK {
			t.Errorf("status %d after a new login", r.status)
		}
	})
}

func TestESM_Template(t *testing.T) {
	f := newFixture(t, Options{Attributes: Attributes{EndTime: Omit, Active: "open"}})
	tok := f.login()
	var tmpl struct {
		Code       string
		Attributes map[string]struct {
			Code       string
			Type       string
			MultiValue bool
			Values     []StaticValue
			Target     []string
		}
	}
	f.esm("GET", "/dc/chat_session", tok, nil).decode(t, &tmpl)
	if tmpl.Code != "chat_session" {
		t.Errorf("code %q", tmpl.Code)
	}
	if _, ok := tmpl.Attributes["end_time"]; ok {
		t.Error("omitted end_time is in the template")
	}
	active := tmpl.Attributes["open"]
	if active.Type != TypeStatic || !slices.Equal(active.Values, []StaticValue{{"Yes", "yes"}, {"No", "no"}}) {
		t.Errorf("active attribute %+v", active)
	}
	if m := tmpl.Attributes["members"]; !m.MultiValue || m.Type != TypeReference || m.Target[0] != "person" {
		t.Errorf("members %+v", m)
	}
	if r := f.esm("GET", "/dc/nope", tok, nil); r.status != http.StatusNotFound {
		t.Errorf("unknown template: %d", r.status)
	}
}

type cardPage struct {
	Meta struct {
		Count int
		Limit int
		Links map[string]string
	}
	Data []struct {
		DataCardID string
		Name       string
		Data       map[string]struct {
			Type   string
			Values []map[string]any
		}
	}
}

// listCards follows next links from path and returns the ids seen.
func listCards(t *testing.T, f *fixture, tok, path string) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		r := f.do("GET", path, tok, nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var p cardPage
		r.decode(t, &p)
		pages++
		if p.Meta.Count != len(p.Data) {
			t.Errorf("count %d for %d cards", p.Meta.Count, len(p.Data))
		}
		for _, c := range p.Data {
			ids = append(ids, c.DataCardID)
		}
		next, ok := p.Meta.Links["next"]
		if !ok {
			return ids, pages
		}
		if !strings.Contains(next, "filterId="+ids[len(ids)-1]) {
			t.Fatalf("next %q does not carry filterId %s", next, ids[len(ids)-1])
		}
		path = next
	}
}

func TestESM_ListCardsPaging(t *testing.T) {
	f := newFixture(t, Options{})
	var all []string
	for i := range 23 {
		id := must[string](t)(f.CreateChatSessionCard(fmt.Sprintf("ws-%d", i)))
		all = append(all, id)
		if i%2 == 1 {
			must[string](t)(f.AddPerson("P", fmt.Sprintf("p%d@example.com", i))) // interleave another template
		}
	}
	slices.Reverse(all)
	tok := f.login()
	tests := []struct {
		name      string
		query     string
		want      []string
		wantPages int
	}{
		{"limit 200", "limit=200", all, 1},
		{"filterId 0 is none", "limit=200&filterId=0", all, 1},
		{"limit 5", "limit=5", all, 5},
		{"limit 23 exact", "limit=23", all, 1},
		{"limit 1", "limit=1", all, 23},
		{"below filterId", "limit=10&filterId=" + all[3], all[4:], 2},
		{"filter", "limit=50&filter=" + url.QueryEscape("$chat_session_id$ = 'ws-7'"), all[15:16], 1},
		{"no match", "limit=50&filter=" + url.QueryEscape("$chat_session_id$ = 'none'"), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := listCards(t, f, tok, ESMPrefix+"/dc/chat_session/data?dataCards=true&"+tt.query)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %v\nwant %v", got, tt.want)
			}
			if pages != tt.wantPages {
				t.Errorf("pages %d, want %d", pages, tt.wantPages)
			}
		})
	}
	for _, q := range []string{"", "filterId=5", "limit=0", "limit=201", "limit=5&filterId=x", "limit=5&filterId=-1",
		"limit=5&filter=nonsense", "limit=5&selectedAttributes=nope"} {
		t.Run("bad "+q, func(t *testing.T) {
			if r := f.esm("GET", "/dc/chat_session/data?"+q, tok, nil); r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
		})
	}
}

func TestESM_ListNotFoundOnEmpty(t *testing.T) {
	f := newFixture(t, Options{NotFoundOnEmpty: true})
	for _, path := range []string{"/dc/chat_session/data?limit=200&filter=", "/dc/chat_session/data/stream?filter="} {
		r := f.esm("GET", path+url.QueryEscape("$chat_session_id$ = 'x'"), f.login(), nil)
		if r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, r.status)
		}
	}
}

func TestESM_FilterSemantics(t *testing.T) {
	f := newFixture(t, Options{})
	ann := must[string](t)(f.AddPerson("Ann", "Ann@Example.com"))
	odd := must[string](t)(f.CreateChatSessionCard("it's $x$ OR 1=1"))
	plain := must[string](t)(f.CreateChatSessionCard("ws-1"))
	closed := must[string](t)(f.CreateChatSessionCard("ws-2"))
	if err := f.SetCard(closed, map[string][]Value{"is_chat_active": {Static(f.Options().Inactive)}}); err != nil {
		t.Fatal(err)
	}
	tok := f.login()
	tests := []struct {
		name     string
		template string
		filter   string
		want     []string
		status   int
	}{
		{"email case-insensitive", "person", "$email$ = 'ann@example.COM'", []string{ann}, 200},
		{"static by display value", "chat_session", "$is_chat_active$ = 'Yes'", []string{plain, odd}, 200},
		{"static case-insensitive", "chat_session", "$is_chat_active$ = 'yes'", []string{plain, odd}, 200},
		{"inactive", "chat_session", "$is_chat_active$ = 'No'", []string{closed}, 200},
		{"AND", "chat_session", "$is_chat_active$ = 'Yes' and $chat_session_id$ = 'ws-1'", []string{plain}, 200},
		{"AND no match", "chat_session", "$is_chat_active$ = 'No' AND $chat_session_id$ = 'ws-1'", nil, 200},
		{"quoted quote and dollar", "chat_session", "$chat_session_id$ = 'it''s $x$ OR 1=1'", []string{odd}, 200},
		{"injection is data", "chat_session", "$chat_session_id$ = 'x'' OR $chat_session_id$ = ''ws-1'", nil, 200},
		{"unescaped injection", "chat_session", "$chat_session_id$ = 'x' OR $chat_session_id$ = 'ws-1'", nil, 400},
		{"unknown attribute", "chat_session", "$nope$ = 'x'", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/dc/" + tt.template + "/data?limit=200&dataCards=true&filter=" + url.QueryEscape(tt.filter)
			r := f.esm("GET", path, tok, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r.status != 200 {
				return
			}
			var p cardPage
			r.decode(t, &p)
			var got []string
			for _, c := range p.Data {
				got = append(got, c.DataCardID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
}

func TestESM_GetCard(t *testing.T) {
	f := newFixture(t, Options{})
	sess, msgs := exampleSession("ws-1")
	id := must[string](t)(f.AddCase(sess, msgs))
	ann, _ := f.PersonByEmail("ANN@example.com")
	if err := f.SetCard(id, map[string][]Value{
		"message_count": {Number(7)},
		"members":       {Ref(ann.ID)},
		"start_time":    {Time(t0)},
	}); err != nil {
		t.Fatal(err)
	}
	tok := f.login()
	r := f.esm("GET", "/dc/chat_session/data/"+id, tok, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for _, want := range []string{
		`"dataCardId":"` + id + `"`,
		`"is_chat_active":{"name":"Is chat active?","type":"static-value","values":[{"code":"yes","value":"Yes"}]}`,
		`"message_count":{"name":"Message count","type":"number","values":[{"value":7}]}`,
		`"values":[{"dataCardId":"` + ann.ID + `","deleted":false,"hidden":false,"name":"Ann Agent","templateCode":"person","templateName":"Person","url":"/dc/person/data/` + ann.ID + `"}]`,
		`"start_time":{"name":"Start time","type":"date","values":[{"value":"2024-06-03T09:00:00Z"}]}`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("body lacks %s\n%s", want, r.body)
		}
	}
	r = f.esm("GET", "/dc/chat_session/data/"+id+"?selectedAttributes=end_time,chat_session_id", tok, nil)
	if !strings.Contains(string(r.body), `"end_time":{"name":"End time","type":"date","values":[]}`) || strings.Contains(string(r.body), "message_count") {
		t.Errorf("selected attributes: %s", r.body)
	}
	for _, path := range []string{"/dc/chat_session/data/999", "/dc/person/data/" + id, "/dc/chat_session/data/x"} {
		if r := f.esm("GET", path, tok, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.status)
		}
	}
}

type writeResult struct {
	Meta struct {
		Errors []struct {
			AttributeCode string
			Message       string
		}
	}
	DataCard struct{ DataCardID string }
}

func TestESM_PatchCard(t *testing.T) {
	f := newFixture(t, Options{})
	sess, msgs := exampleSession("ws-1")
	id := must[string](t)(f.AddCase(sess, msgs))
	chatCard := must[string](t)(f.CreateChatSessionCard("ws-other"))
	maija, _ := f.PersonByEmail("maija@example.com")
	ann, _ := f.PersonByEmail("ann@example.com")
	tok := f.login()
	val := func(vs ...map[string]any) map[string]any { return map[string]any{"values": vs} }
	tests := []struct {
		name      string
		data      map[string]any
		wantCodes []string // attribute codes in meta.errors; nil is success
	}{
		{"unknown attribute", map[string]any{"nope": val(map[string]any{"value": "x"})}, []string{"nope"}},
		{"number as string", map[string]any{"message_count": val(map[string]any{"value": "7"})}, []string{"message_count"}},
		{"string as number", map[string]any{"chat_log": val(map[string]any{"value": 7})}, []string{"chat_log"}},
		{"bad date", map[string]any{"start_time": val(map[string]any{"value": "03.06.2024 09:00"})}, []string{"start_time"}},
		{"static value not in menu", map[string]any{"is_chat_active": val(map[string]any{"value": "Maybe", "code": "maybe"})}, []string{"is_chat_active"}},
		{"static value and code disagree", map[string]any{"is_chat_active": val(map[string]any{"value": "No", "code": "yes"})}, []string{"is_chat_active"}},
		{"reference to nothing", map[string]any{"customer": val(map[string]any{"dataCardId": "999"})}, []string{"customer"}},
		{"reference to a non-person", map[string]any{"customer": val(map[string]any{"dataCardId": chatCard})}, []string{"customer"}},
		{"two values for single", map[string]any{"support_person": val(map[string]any{"dataCardId": ann.ID}, map[string]any{"dataCardId": maija.ID})}, []string{"support_person"}},
		{"one bad among good", map[string]any{
			"message_count": val(map[string]any{"value": 7}),
			"members":       val(map[string]any{"dataCardId": maija.ID}, map[string]any{"dataCardId": "x"}),
		}, []string{"members"}},
		{"all good", map[string]any{
			"chat_log":         val(map[string]any{"value": "2024-06-03 12:00:01 Botti (bot): Hi"}),
			"message_count":    val(map[string]any{"value": 7}),
			"first_reply_wait": val(map[string]any{"value": 45}),
			"members":          val(map[string]any{"dataCardId": maija.ID}, map[string]any{"dataCardId": ann.ID}),
			"customer":         val(map[string]any{"dataCardId": maija.ID}),
			"start_time":       val(map[string]any{"value": "2024-06-03T12:00:00+03:00"}),
			"end_time":         val(),
			"is_chat_active":   val(map[string]any{"value": "No", "code": "no"}),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := f.Card(id)
			r := f.esm("PATCH", "/dc/chat_session/data/"+id, tok, map[string]any{"dataCardId": id, "data": tt.data})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var res writeResult
			r.decode(t, &res)
			var codes []string
			for _, e := range res.Meta.Errors {
				codes = append(codes, e.AttributeCode)
				if e.Message == "" {
					t.Errorf("error without message: %s", r.body)
				}
			}
			if !slices.Equal(codes, tt.wantCodes) || res.DataCard.DataCardID != id {
				t.Fatalf("errors %v, want %v: %s", codes, tt.wantCodes, r.body)
			}
			after, _ := f.Card(id)
			if tt.wantCodes != nil && !cardsEqual(before, after) {
				t.Errorf("a failed PATCH changed the card:\n%+v\n%+v", before, after)
			}
		})
	}
	c, _ := f.Card(id)
	n, _ := c.Number("message_count")
	start, _ := c.Time("start_time")
	if n != 7 || !start.Equal(t0) || c.Code("is_chat_active") != "no" || c.Text("chat_session_id") != "ws-1" ||
		!slices.Equal(c.Refs("members"), []string{maija.ID, ann.ID}) || c.Ref("customer") != maija.ID || c.Has("end_time") {
		t.Errorf("card after PATCH: %+v", c)
	}
	if got, _ := f.CardBySession("ws-1"); got.ID != id {
		t.Errorf("CardBySession: %+v", got)
	}
	if r := f.esm("PATCH", "/dc/chat_session/data/999", tok, map[string]any{"data": map[string]any{}}); r.status != http.StatusNotFound {
		t.Errorf("unknown card: %d", r.status)
	}
	if r := f.esm("PATCH", "/dc/chat_session/data/"+id, tok, map[string]any{"dataCardId": "1", "data": map[string]any{}}); r.status != http.StatusBadRequest {
		t.Errorf("mismatched dataCardId: %d", r.status)
	}
}

func cardsEqual(a, b Card) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestESM_CreateCard(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login()
	data := map[string]any{"chat_session_id": map[string]any{"values": []any{map[string]any{"value": "ws-9"}}}}
	tests := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"created", map[string]any{"folderCode": "chat_sessions", "data": data}, http.StatusCreated},
		{"wrong folder", map[string]any{"folderCode": "nope", "data": data}, http.StatusBadRequest},
		{"bad value", map[string]any{"folderCode": "chat_sessions", "data": map[string]any{"message_count": map[string]any{"values": []any{map[string]any{"value": "x"}}}}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.SessionCards())
			r := f.esm("POST", "/dc/chat_session/data", tok, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			created := len(f.SessionCards()) - before
			if tt.status != http.StatusCreated {
				var e struct{ Code int }
				r.decode(t, &e)
				if created != 0 || e.Code != tt.status || !strings.Contains(string(r.body), "data card not created") {
					t.Errorf("created %d, answer %s", created, r.body)
				}
				return
			}
			var res writeResult
			r.decode(t, &res)
			c, ok := f.Card(res.DataCard.DataCardID)
			if created != 1 || !ok || c.Text("chat_session_id") != "ws-9" || c.Folder != "chat_sessions" {
				t.Errorf("created %d, card %+v", created, c)
			}
		})
	}
}

func TestESM_DeleteCard(t *testing.T) {
	f := newFixture(t, Options{})
	id := must[string](t)(f.CreateChatSessionCard("ws-1"))
	if !f.DeleteCard(id) || f.DeleteCard(id) {
		t.Fatal("DeleteCard did not report existence")
	}
	if _, ok := f.CardBySession("ws-1"); ok {
		t.Error("deleted card still found by session")
	}
	if r := f.esm("GET", "/dc/chat_session/data/"+id, f.login(), nil); r.status != http.StatusNotFound {
		t.Errorf("status %d", r.status)
	}
}

func TestESM_ManyCardsListing(t *testing.T) {
	f := newFixture(t, Options{})
	sum, err := f.Generate(GenOptions{Sessions: 3000, MessagesPerSession: 4, Seed: 1, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	cards := f.SessionCards()
	for _, c := range cards[:1000] {
		if err := f.SetCard(c.ID, map[string][]Value{"is_chat_active": {Static(f.Options().Inactive)}}); err != nil {
			t.Fatal(err)
		}
	}
	tok := f.login()
	filter := url.QueryEscape("$is_chat_active$ = 'Yes'")
	ids, pages := listCards(t, f, tok, ESMPrefix+"/dc/chat_session/data?limit=200&dataCards=true&selectedAttributes=chat_session_id&filter="+filter)
	if len(ids) != sum.Cards-1000 || pages != 10 {
		t.Fatalf("%d active cards in %d pages", len(ids), pages)
	}
	if !slices.IsSortedFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return y - x
	}) {
		t.Error("not descending")
	}
}
