package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/transcript"
)

// genesysToken gets an access token from the fake's login host.
func (f *fixture) genesysToken() string {
	f.t.Helper()
	r := f.genesysLogin(GenesysClientID, f.Options().ChatToken, "client_credentials")
	if r.status != http.StatusOK {
		f.t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	r.decode(f.t, &tok)
	if tok.TokenType != "bearer" || tok.ExpiresIn != 86399 || tok.AccessToken == "" {
		f.t.Fatalf("token response %s", r.body)
	}
	return tok.AccessToken
}

func (f *fixture) genesysLogin(id, secret, grant string) response {
	f.t.Helper()
	req := url.Values{"grant_type": {grant}}.Encode()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	return f.do("POST", GenesysLoginPath+"/oauth/token", auth, strings.NewReader(req), "application/x-www-form-urlencoded")
}

func (f *fixture) genesys(method, path, tok string, body string) response {
	f.t.Helper()
	return f.do(method, GenesysPrefix+path, "Bearer "+tok, strings.NewReader(body), "application/json")
}

func TestGenesys_Login(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{Platform: PlatformGenesys})
	tests := []struct {
		name, id, secret, grant string
		status                  int
		errCode                 string
	}{
		{"WrongSecret", GenesysClientID, "nope", "client_credentials", 401, "invalid_client"},
		{"WrongClient", "other", f.Options().ChatToken, "client_credentials", 401, "invalid_client"},
		{"OtherGrant", GenesysClientID, f.Options().ChatToken, "password", 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		r := f.genesysLogin(tt.id, tt.secret, tt.grant)
		var body map[string]string
		r.decode(t, &body)
		if r.status != tt.status || body["error"] != tt.errCode || body["error_description"] == "" {
			t.Errorf("%s: %d %s, want %d with error %s", tt.name, r.status, r.body, tt.status, tt.errCode)
		}
	}
	tok := f.genesysToken()
	conv := f.PlatformSessionID("ws-none")
	if r := f.genesys("GET", "/api/v2/conversations/"+conv, tok, ""); r.status != http.StatusNotFound {
		t.Errorf("unknown conversation: %d", r.status)
	}
	f.clock.Advance(DefaultGenesysTokenTTL)
	r := f.genesys("GET", "/api/v2/conversations/"+conv, tok, "")
	var e struct {
		Message, Code string
		Status        int
	}
	r.decode(t, &e)
	if r.status != 401 || e.Code != "bad.credentials" || e.Status != 401 || e.Message == "" {
		t.Errorf("expired token: %d %s", r.status, r.body)
	}
}

func TestGenesys_ConversationShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{Platform: PlatformGenesys})
	s, msgs := exampleSession("ws-1")
	must[string](t)(f.AddCase(s, msgs))
	tok := f.genesysToken()
	conv := f.PlatformSessionID("ws-1")
	r := f.genesys("GET", "/api/v2/conversations/"+conv, tok, "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var c struct {
		ID           string `json:"id"`
		StartTime    string `json:"startTime"`
		EndTime      string `json:"endTime"`
		Participants []struct {
			ID, Purpose, Name, UserID, ExternalContactID string
			ConnectedTime                                string
			Messages                                     []struct {
				Type     string
				Messages []struct{ MessageID, MessageTime string }
			}
		}
	}
	r.decode(t, &c)
	if c.ID != conv || c.StartTime != "2024-06-03T09:00:00.000Z" || c.EndTime != "2024-06-03T09:07:00.000Z" {
		t.Errorf("conversation head %s %s %s", c.ID, c.StartTime, c.EndTime)
	}
	var purposes []string
	listedByCustomer := 0
	for _, p := range c.Participants {
		purposes = append(purposes, p.Purpose)
		if p.Purpose == "customer" {
			listedByCustomer = len(p.Messages[0].Messages)
			if p.Messages[0].Type != "webmessaging" || p.ExternalContactID == "" {
				t.Errorf("customer leg %+v", p)
			}
		}
	}
	if want := []string{"customer", "workflow", "acd", "agent", "agent"}; !slices.Equal(purposes, want) {
		t.Errorf("purposes %v, want %v", purposes, want)
	}
	// 7 messages less the system one, plus the join event.
	if listedByCustomer != 7 {
		t.Errorf("customer leg lists %d ids, want 7", listedByCustomer)
	}
	var ids []string
	for _, m := range c.Participants[0].Messages[0].Messages {
		ids = append(ids, m.MessageID)
	}
	body, _ := json.Marshal(append(ids, "unknown-id", ids[0]))
	r = f.genesys("POST", "/api/v2/conversations/messages/"+conv+"/messages/bulk?useNormalizedMessage=true", tok, string(body))
	var listing struct {
		Entities []struct {
			ID, Direction, Status string
			NormalizedMessage     struct{ Type, Text, OriginatingEntity string }
			CreatedBy             *struct{ ID string }
		}
		Total int
	}
	r.decode(t, &listing)
	if r.status != 200 || len(listing.Entities) != 7 || listing.Total != 7 {
		t.Fatalf("bulk: %d, %d entities", r.status, len(listing.Entities))
	}
	kinds := map[string]int{}
	for _, e := range listing.Entities {
		k := e.Direction + "/" + e.NormalizedMessage.Type + "/" + e.NormalizedMessage.OriginatingEntity
		if e.CreatedBy != nil {
			k += "/createdBy"
			if u := f.genesys("GET", "/api/v2/users/"+e.CreatedBy.ID, tok, ""); u.status != 200 {
				t.Errorf("user of createdBy: %d", u.status)
			}
		}
		kinds[k]++
	}
	want := map[string]int{"inbound/Event/": 1, "inbound/Text/": 3, "outbound/Text/Bot": 1, "outbound/Text/Human/createdBy": 2}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("bodies %v, want %v", kinds, want)
	}
	many, _ := json.Marshal(make([]string, 1001))
	if r := f.genesys("POST", "/api/v2/conversations/messages/"+conv+"/messages/bulk", tok, string(many)); r.status != 400 {
		t.Errorf("1001 ids: %d, want 400", r.status)
	}
	if r := f.genesys("GET", "/api/v2/users/nobody", tok, ""); r.status != 404 {
		t.Errorf("unknown user: %d", r.status)
	}
}

func TestGenesys_DetailsQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{Platform: PlatformGenesys})
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, h := range []int{1, 5, 23, 25} {
		must[string](t)("", f.AddSession(aggregate.Session{ID: "ws-" + string(rune('a'+i)), StartedAt: day.Add(time.Duration(h) * time.Hour)}, nil))
	}
	tok := f.genesysToken()
	query := func(interval string, size, page int) (int, []string, int) {
		body, _ := json.Marshal(map[string]any{"interval": interval, "order": "asc", "orderBy": "conversationStart",
			"paging":         map[string]int{"pageSize": size, "pageNumber": page},
			"segmentFilters": []any{map[string]any{"type": "and", "predicates": []any{map[string]string{"dimension": "mediaType", "value": "message"}}}}})
		r := f.genesys("POST", "/api/v2/analytics/conversations/details/query", tok, string(body))
		var resp struct {
			Conversations []struct{ ConversationID string }
			TotalHits     int
		}
		if r.status == 200 {
			r.decode(t, &resp)
		}
		var ids []string
		for _, c := range resp.Conversations {
			ids = append(ids, c.ConversationID)
		}
		return r.status, ids, resp.TotalHits
	}
	// 12:00 to 13:00 on May 1st touches that day: three conversations.
	status, ids, total := query("2024-05-01T12:00:00.000Z/2024-05-01T13:00:00.000Z", 2, 1)
	if status != 200 || total != 3 || len(ids) != 2 || ids[0] != f.PlatformSessionID("ws-a") {
		t.Errorf("page 1: %d %v of %d", status, ids, total)
	}
	if _, ids, _ := query("2024-05-01T12:00:00.000Z/2024-05-01T13:00:00.000Z", 2, 2); len(ids) != 1 {
		t.Errorf("page 2: %v", ids)
	}
	if _, ids, _ := query("2024-05-01T12:00:00.000Z/2024-05-01T13:00:00.000Z", 2, 3); len(ids) != 0 {
		t.Errorf("page 3: %v", ids)
	}
	if status, _, _ := query("2024-05-01T12:00:00.000Z/2024-05-01T13:00:00.000Z", 101, 1); status != 400 {
		t.Errorf("pageSize 101: %d, want 400", status)
	}
	if status, _, _ := query("yesterday", 10, 1); status != 400 {
		t.Errorf("bad interval: %d, want 400", status)
	}
}

// genesysInexpressible are the golden cases whose card Genesys Cloud
// cannot carry, and why; docs/sources/genesys-cloud.md lists the same.
var genesysInexpressible = map[string]string{
	"ccai-transfer":                 "system messages",
	"dst-helsinki":                  "a system message",
	"first-chat-never-connected":    "a system message",
	"first-chat-no-reply-later-yes": "system messages",
	"genesys-completed":             "a system message",
	"genesys-rejected":              "a system message",
	"genesys-started-cancelled":     "system messages",
	"max-age-boundary":              "a system message",
	"messy-input":                   "system messages and a sender of an unknown type",
	"no-visitor-after-connect":      "a system message",
	"spec-worked-example":           "a system message",
	"superoffice-bot-handoff":       "system messages",
	"support-tie":                   "a system message",
}

// TestGenesys_GoldenCasesItCannotExpress checks Express against the golden
// cards: a case's card changes exactly when the case is listed, and then
// only by losing what Genesys has no counterpart for (system messages and
// senders of unknown types): every other value is the golden card's.
func TestGenesys_GoldenCasesItCannotExpress(t *testing.T) {
	t.Parallel()
	cases, err := transcript.ReadDir(filepath.Join("..", "..", "testdata", "golden"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("golden cases: %v", err)
	}
	s := New(Options{Platform: PlatformGenesys})
	for _, c := range cases {
		opt := must[aggregate.Options](t)(c.Options.Aggregate())
		var golden aggregate.Card
		b := must[[]byte](t)(os.ReadFile(filepath.Join(c.Dir, "card.json")))
		if err := json.Unmarshal(b, &golden); err != nil {
			t.Fatal(err)
		}
		es, em := s.Express(c.Session, c.Messages)
		got := aggregate.Aggregate(es, em, opt)
		why, listed := genesysInexpressible[c.Name]
		if changed := !reflect.DeepEqual(got, golden); changed != listed {
			t.Errorf("%s: card changed %v, listed as inexpressible %v (%s)", c.Name, changed, listed, why)
		}
		var kept []aggregate.Message
		for _, m := range c.Messages {
			if expressible(m.Sender.Type) {
				kept = append(kept, m)
			}
		}
		if want := aggregate.Aggregate(c.Session, kept, opt); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Genesys card\n%+v\nis not the golden case without its system messages\n%+v", c.Name, got, want)
		}
	}
}

// Injected faults answer in the Platform API's error shape: the adapter
// reads the same body from a fault as from a real 429 or 503.
func TestGenesys_Faults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{Platform: PlatformGenesys})
	tok := f.genesysToken()
	var e struct {
		Message, Code string
		Status        int
	}
	f.SetFaults(Faults{Chat: Fault{RateLimitShare: 1, RetryAfter: 7}})
	r := f.genesys("GET", "/api/v2/conversations/x", tok, "")
	r.decode(t, &e)
	if r.status != 429 || r.header.Get("Retry-After") != "7" || e.Code != "too.many.requests" || e.Status != 429 || e.Message == "" {
		t.Errorf("429: %d %v %+v", r.status, r.header, e)
	}
	f.SetFaults(Faults{Chat: Fault{ServerErrorShare: 1}})
	r = f.genesys("GET", "/api/v2/conversations/x", tok, "")
	r.decode(t, &e)
	if r.status < 500 || e.Status != r.status || !strings.Contains(e.Code, ".") {
		t.Errorf("5xx: %d %+v", r.status, e)
	}
}
