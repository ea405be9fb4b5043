package esm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// apiServer is a mux with a working login under /v1, for tests that script
// the other endpoints themselves. It records each request's method, URI and
// body.
type apiServer struct {
	*httptest.Server
	mux  *http.ServeMux
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, uri, body string
}

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{mux: http.NewServeMux()}
	tok := makeJWT(timeNowPlusHour(), 1)
	s.mux.HandleFunc("POST /v1/users/login", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, `{"token":"Bearer `+tok+`"}`)
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		if !strings.HasSuffix(r.URL.EscapedPath(), "/users/login") {
			s.mu.Lock()
			s.seen = append(s.seen, seenRequest{r.Method, r.URL.RequestURI(), string(b)})
			s.mu.Unlock()
		}
		s.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

func (s *apiServer) client(t *testing.T, mods ...func(*Options)) *Client {
	return newTestClient(t, s.URL+"/v1", mods...)
}

// page renders a list answer with cards of the given ids and, when
// nextFilterID > 0, a next link.
func page(nextFilterID int64, ids ...int64) string {
	var cards []string
	for _, id := range ids {
		cards = append(cards, fmt.Sprintf(`{"dataCardId":"%d","name":"c%d","data":{"chat_session_id":{"name":"Chat session id","type":"string","values":[{"value":"ws-%d"}]}}}`, id, id, id))
	}
	links := "{}"
	if nextFilterID > 0 {
		links = fmt.Sprintf(`{"next":"https://efecte.example/rest-api/itsm/v1/dc/chat_session/data?limit=3&filterId=%d"}`, nextFilterID)
	}
	return fmt.Sprintf(`{"meta":{"count":%d,"limit":3,"links":%s},"data":[%s]}`, len(ids), links, strings.Join(cards, ","))
}

// pager answers list requests from pages keyed by the filterId asked for
// ("" for the first).
func pager(pages map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("filterId")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeRaw(w, http.StatusOK, body)
	}
}

func TestClient_ListCards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pages    map[string]string
		maxPages int
		wantIDs  []string
		wantErr  string
		wantReqs int
	}{
		{"PagesByNextLink", map[string]string{"": page(7, 9, 8, 7), "7": page(4, 6, 5, 4), "4": page(0, 3)},
			0, []string{"9", "8", "7", "6", "5", "4", "3"}, "", 3},
		{"FullPageWithoutLinkUsesLowestID", map[string]string{"": page(0, 9, 8, 7), "7": page(0, 6)},
			0, []string{"9", "8", "7", "6"}, "", 2},
		{"EmptyPageEnds", map[string]string{"": page(7, 9, 8, 7), "7": page(0)},
			0, []string{"9", "8", "7"}, "", 2},
		{"404OnLaterPageEnds", map[string]string{"": page(7, 9, 8, 7)},
			0, []string{"9", "8", "7"}, "", 2},
		{"404IsNoMatches", map[string]string{}, 0, nil, "", 1},
		{"EmptyDataIsNoMatches", map[string]string{"": `{"meta":{"count":0,"limit":3,"links":{}},"data":[]}`}, 0, nil, "", 1},
		{"DuplicatesAtPageEdgeOnce", map[string]string{"": page(7, 9, 8, 7), "7": page(0, 7, 6)},
			0, []string{"9", "8", "7", "6"}, "", 2},
		{"FilterIDNotDecreasing", map[string]string{"": page(7, 9, 8, 7), "7": page(7, 9, 8, 7)},
			0, []string{"9", "8", "7"}, "paging does not advance: filterId 7 after 7", 2},
		{"FilterIDIncreasing", map[string]string{"": page(7, 9, 8, 7), "7": page(12, 6, 5, 4)},
			0, []string{"9", "8", "7", "6", "5", "4"}, "paging does not advance: filterId 12 after 7", 2},
		{"ServerIgnoresFilterID", map[string]string{"": page(0, 9, 8, 7), "7": page(0, 9, 8, 7)},
			0, []string{"9", "8", "7"}, "paging does not advance", 2},
		{"NextLinkWithoutFilterID", map[string]string{"": strings.Replace(page(7, 9, 8, 7), "filterId=7", "cursor=x", 1)},
			0, []string{"9", "8", "7"}, "next link without a usable filterId", 1},
		{"PageCap", map[string]string{"": page(7, 9, 8, 7), "7": page(4, 6, 5, 4), "4": page(1, 3, 2, 1)},
			2, []string{"9", "8", "7", "6", "5", "4"}, "more than 2 pages", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newAPIServer(t)
			s.mux.HandleFunc("GET /v1/dc/chat_session/data", pager(tt.pages))
			c := s.client(t, func(o *Options) { o.PageSize, o.MaxPages = 3, tt.maxPages })
			var got []string
			err := c.ListCards(context.Background(), "chat_session", "", nil, func(card Card) error {
				if card.Text("chat_session_id") != "ws-"+card.ID {
					t.Errorf("card %s: chat_session_id %q", card.ID, card.Text("chat_session_id"))
				}
				got = append(got, card.ID)
				return nil
			})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tt.wantIDs)
			}
			if n := len(s.requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestClient_ListCards_Query(t *testing.T) {
	t.Parallel()
	s := newAPIServer(t)
	s.mux.HandleFunc("GET /v1/dc/chat_session/data", pager(map[string]string{"": page(7, 9, 8, 7), "7": page(0, 6)}))
	filter := And(must(Eq("is_chat_active", "Yes")), must(Eq("chat_log", "a+b c")))
	err := s.client(t, func(o *Options) { o.PageSize = 3 }).ListCards(context.Background(), "chat_session", filter,
		[]string{"chat_session_id", "is_chat_active"}, func(Card) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/v1/dc/chat_session/data?dataCards=true&filter=%24is_chat_active%24%20%3D%20%27Yes%27%20AND%20%24chat_log%24%20%3D%20%27a%2Bb%20c%27&limit=3&selectedAttributes=chat_session_id%2Cis_chat_active",
		"/v1/dc/chat_session/data?dataCards=true&filter=%24is_chat_active%24%20%3D%20%27Yes%27%20AND%20%24chat_log%24%20%3D%20%27a%2Bb%20c%27&filterId=7&limit=3&selectedAttributes=chat_session_id%2Cis_chat_active",
	}
	for i, r := range s.requests() {
		if r.uri != want[i] {
			t.Errorf("request %d:\n got %s\nwant %s", i, r.uri, want[i])
		}
	}
}

func TestClient_ListCards_Errors(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop here")
	t.Run("CallbackErrorReturnedAsIs", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("GET /v1/dc/chat_session/data", pager(map[string]string{"": page(7, 9, 8, 7)}))
		n := 0
		err := s.client(t).ListCards(context.Background(), "chat_session", "", nil, func(Card) error { n++; return stop })
		if err != stop || n != 1 {
			t.Fatalf("err = %v after %d cards, want %v after 1", err, n, stop)
		}
	})
	t.Run("InvalidSelectedAttribute", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		err := s.client(t).ListCards(context.Background(), "chat_session", "", []string{"a,b"}, func(Card) error { return nil })
		if err == nil || len(s.requests()) != 0 {
			t.Fatalf("err = %v, requests %d; want an error before any request", err, len(s.requests()))
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("GET /v1/dc/chat_session/data", func(w http.ResponseWriter, r *http.Request) {
			apiException(w, http.StatusBadRequest, "Invalid filter")
		})
		err := s.client(t).ListCards(context.Background(), "chat_session", "", nil, func(Card) error { return nil })
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Message != "Invalid filter" {
			t.Fatalf("err = %v, want APIError 400 Invalid filter", err)
		}
		if !strings.HasPrefix(err.Error(), "esm list chat_session cards: ") {
			t.Errorf("err = %q, want it to name the template", err)
		}
	})
}

// efecteCard is Efecte's published RESTDataCard example.
const efecteCard = `{
  "name": "REST-api example", "dataCardId": "378180", "templateName": "REST example model",
  "templateCode": "rest_example_model", "templateId": "362524",
  "folderName": "Incident management", "folderCode": "incident_management",
  "data": {
    "string_attribute_code": {"name": "String-attribute", "type": "string", "values": [{"value": "String"}]},
    "empty_or_unauthorized_attribute_code": {"name": "Empty or Unauthorized -attribute", "type": "string", "values": []},
    "date_attribute_code": {"name": "Date-attribute", "type": "date", "values": [{"value": "2021-03-24"}]},
    "datetime_attribute_code": {"name": "Datetime-attribute", "type": "date", "values": [{"value": "2021-03-24T10:57:57Z"}]},
    "decimal_attribute_code": {"name": "Decimal number -attribute", "type": "number", "values": [{"value": 0.2425432341}]},
    "number_attribute_code": {"name": "Number-attribute", "type": "number", "values": [{"value": 42}]},
    "reference_attribute_code": {"name": "Reference-attribute", "type": "reference", "values": [
      {"name": "Disk capacity low", "dataCardId": "21357", "templateName": "Alert", "templateCode": "alert", "deleted": false, "hidden": false}]},
    "external_reference_code": {"name": "External-reference", "type": "external-reference", "values": [
      {"name": "https://www.efecte.com", "location": "https://www.efecte.com"}]},
    "multi_value_attribute_code": {"name": "Multi value -attribute", "type": "string", "values": [{"value": "1"}, {"value": "2"}, {"value": "3"}]},
    "static_value_attribute_code": {"name": "Static-value", "type": "static-value", "values": [{"value": "02", "code": "second"}]},
    "static_date_attribute_code": {"name": "Static-date", "type": "static-value", "values": [{"value": "02.02.2011", "code": null}]},
    "worklog_attribute_code": {"name": "Worklog attribute", "type": "worklog", "values": [
      {"author": "Abraham Administrator", "value": "Second comment", "date": "2021-03-24T08:58:55Z"}]}
  },
  "deleted": false, "hidden": false
}`

func TestClient_GetCard(t *testing.T) {
	t.Parallel()
	s := newAPIServer(t)
	s.mux.HandleFunc("GET /v1/dc/rest_example_model/data/378180", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, efecteCard)
	})
	s.mux.HandleFunc("GET /v1/dc/rest_example_model/data/big", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, `{"dataCardId":"1","name":"`+strings.Repeat("x", 4096)+`"}`)
	})
	t.Run("EfecteExample", func(t *testing.T) {
		card, err := s.client(t).GetCard(context.Background(), "rest_example_model", "378180")
		if err != nil {
			t.Fatal(err)
		}
		if card.ID != "378180" || card.Template != "rest_example_model" || card.Folder != "incident_management" {
			t.Errorf("card = %s %s %s", card.ID, card.Template, card.Folder)
		}
		want := map[string][]Value{
			"string_attribute_code":                {String("String")},
			"empty_or_unauthorized_attribute_code": {},
			"date_attribute_code":                  {String("2021-03-24")},
			"datetime_attribute_code":              {DateTime(mustTime("2021-03-24T10:57:57Z"))},
			"decimal_attribute_code":               {{kind: KindNumber, text: "0.2425432341"}},
			"number_attribute_code":                {Number(42)},
			"reference_attribute_code":             {Ref("21357")},
			"external_reference_code":              {{kind: KindOther, text: `{"name":"https://www.efecte.com","location":"https://www.efecte.com"}`}},
			"multi_value_attribute_code":           {String("1"), String("2"), String("3")},
			"static_value_attribute_code":          {Static("02", "second")},
			"static_date_attribute_code":           {Static("02.02.2011", "")},
			"worklog_attribute_code":               {{kind: KindOther, text: `{"author":"Abraham Administrator","value":"Second comment","date":"2021-03-24T08:58:55Z"}`}},
		}
		if len(card.Attributes) != len(want) {
			t.Errorf("attributes = %d, want %d", len(card.Attributes), len(want))
		}
		for code, vs := range want {
			if got, ok := card.Attributes[code]; !ok || !slices.Equal(got, vs) {
				t.Errorf("%s = %#v, want %#v", code, got, vs)
			}
		}
	})
	t.Run("ErrCardNotFound", func(t *testing.T) {
		_, err := s.client(t).GetCard(context.Background(), "rest_example_model", "404")
		if !errors.Is(err, ErrCardNotFound) || err.Error() != "esm get rest_example_model card 404: 404 Not Found: card not found" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("BodyOverCap", func(t *testing.T) {
		c := s.client(t, func(o *Options) { o.HTTP.MaxBodyBytes = 1024 })
		_, err := c.GetCard(context.Background(), "rest_example_model", "big")
		var tooLarge *httpclient.BodyTooLargeError
		if !errors.As(err, &tooLarge) {
			t.Fatalf("err = %v, want a BodyTooLargeError", err)
		}
	})
	t.Run("PathEscaped", func(t *testing.T) {
		_, err := s.client(t).GetCard(context.Background(), "rest_example_model", "1/../../users/login")
		if !errors.Is(err, ErrCardNotFound) {
			t.Fatalf("err = %v, want ErrCardNotFound", err)
		}
		reqs := s.requests()
		if got := reqs[len(reqs)-1].uri; got != "/v1/dc/rest_example_model/data/1%2F..%2F..%2Fusers%2Flogin" {
			t.Errorf("uri = %s", got)
		}
	})
}

func TestClient_PatchCard(t *testing.T) {
	t.Parallel()
	t.Run("RequestJSON", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("PATCH /v1/dc/chat_session/data/7", func(w http.ResponseWriter, r *http.Request) {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			writeRaw(w, http.StatusOK, `{"meta":{"timestamp":"2024-05-01T09:58:00Z","errors":[]},"dataCard":{"dataCardId":"7"}}`)
		})
		err := s.client(t).PatchCard(context.Background(), "chat_session", "7", map[string][]Value{
			"chat_log":         {String("line 1\n  \"quoted\" O'Brien")},
			"message_count":    {Number(42)},
			"start_time":       {DateTime(mustTime("2024-05-01T12:58:00.75+03:00"))},
			"is_chat_active":   {Static("No", "no")},
			"customer":         {Ref("7")},
			"members":          {Ref("7"), Ref("8")},
			"end_time":         nil,
			"first_reply_wait": {},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"dataCardId":"7","data":{` +
			`"chat_log":{"values":[{"value":"line 1\n  \"quoted\" O'Brien"}]},` +
			`"customer":{"values":[{"dataCardId":"7"}]},` +
			`"end_time":{"values":[]},` +
			`"first_reply_wait":{"values":[]},` +
			`"is_chat_active":{"values":[{"value":"No","code":"no"}]},` +
			`"members":{"values":[{"dataCardId":"7"},{"dataCardId":"8"}]},` +
			`"message_count":{"values":[{"value":42}]},` +
			`"start_time":{"values":[{"value":"2024-05-01T09:58:00Z"}]}}}`
		reqs := s.requests()
		if len(reqs) != 1 || reqs[0].method != http.MethodPatch || reqs[0].body != want {
			t.Fatalf("requests = %+v\nwant body %s", reqs, want)
		}
	})
	t.Run("MetaErrors", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("PATCH /v1/dc/chat_session/data/7", func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, http.StatusOK, `{"meta":{"timestamp":"2024-05-01T09:58:00Z","errors":[`+refusedStatic+`]},"dataCard":{"dataCardId":"7"}}`)
		})
		id := "7"
		err := s.client(t).PatchCard(context.Background(), "chat_session", id, map[string][]Value{
			"is_chat_active": {Static("Maybe", "maybe")}, "chat_log": {String("ok")}})
		var we *WriteError
		if !errors.As(err, &we) || len(we.Errors) != 1 || we.Errors[0].Attribute != "is_chat_active" ||
			!strings.Contains(we.Errors[0].Message, "Couldn't find static-value") {
			t.Fatalf("err = %v, want a WriteError for is_chat_active", err)
		}
		if !strings.HasPrefix(err.Error(), "esm patch chat_session card "+id+": write rejected: is_chat_active: ") {
			t.Errorf("err = %q", err)
		}
	})
	t.Run("ErrCardNotFound", func(t *testing.T) {
		t.Parallel()
		_, baseURL := newSandbox(t, sandbox.Options{})
		err := newTestClient(t, baseURL).PatchCard(context.Background(), "chat_session", "99", map[string][]Value{"chat_log": nil})
		if !errors.Is(err, ErrCardNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("NothingToWrite", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		if err := s.client(t).PatchCard(context.Background(), "chat_session", "7", nil); err != nil || len(s.requests()) != 0 {
			t.Fatalf("err = %v, requests = %d; want nil, 0", err, len(s.requests()))
		}
	})
	t.Run("InvalidCode", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		err := s.client(t).PatchCard(context.Background(), "chat_session", "7", map[string][]Value{"a$ OR": {String("x")}})
		if err == nil || len(s.requests()) != 0 {
			t.Fatalf("err = %v, requests = %d; want an error and no request", err, len(s.requests()))
		}
	})
}

// refusedStatic is the meta.errors entry with which Efecte refuses a
// static value that is not in the attribute's menu (the message follows
// the example of Efecte's OpenAPI document).
const refusedStatic = `{"attributeCode":"is_chat_active","attributeType":"static-value",` +
	`"message":"Couldn't find static-value with value: Maybe and code: maybe from attribute: Is chat active?","error":"Bad Request"}`

func TestClient_PatchCard_Status(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		wantTries int
		check     func(error) bool
	}{
		{"503RetriedThenSurfaced", 503, nil, `{"code":503,"message":"Service Unavailable"}`, 3, isStatus(503)},
		{"502RetriedThenSurfaced", 502, nil, ``, 3, isStatus(502)},
		{"500RetriedThenSurfaced", 500, nil, `{"code":500,"message":"NullPointerException"}`, 3, isStatus(500)},
		{"501NotRetried", 501, nil, ``, 1, isStatus(501)},
		{"400NotRetried", 400, nil, `{"code":400,"message":"Invalid JSON.","error":"Bad Request"}`, 1,
			func(err error) bool { var e *APIError; return errors.As(err, &e) && e.Message == "Invalid JSON." }},
		{"403NotRetried", 403, nil, ``, 1, isStatus(403)},
		{"403IsWriteForbidden", 403, nil, `{"code":403,"message":"User is forbidden to update the resource","error":"Forbidden"}`, 1,
			func(err error) bool {
				return errors.Is(err, ErrWriteForbidden) && isStatus(403)(err) &&
					strings.Contains(err.Error(), "permission") && strings.HasSuffix(err.Error(), "User is forbidden to update the resource")
			}},
		{"200WithVendorFieldErrors", 200, nil, `{"meta":{"errors":[{"attributeCode":"customer","attributeType":"reference",` +
			`"message":"Couldn't find data card 9","error":"Bad Request"}]},"dataCard":{"dataCardId":"7"}}`, 1,
			func(err error) bool {
				var e *WriteError
				return errors.As(err, &e) && e.Errors[0] == FieldError{"customer", "Couldn't find data card 9"} &&
					strings.HasSuffix(err.Error(), "write rejected: customer: Couldn't find data card 9")
			}},
		{"429RateLimited", 429, map[string]string{"Retry-After": "7"}, `{"code":429,"message":"Too many requests"}`, 3,
			func(err error) bool { var e *RateLimitError; return errors.As(err, &e) && e.RetryAfter.Seconds() == 7 }},
		{"200WithErrorsBesideMeta", 200, nil, `{"errors":[{"attributeCode":"chat_log","error":"Bad Request"}],"dataCard":{"dataCardId":"7"}}`, 1,
			func(err error) bool {
				var e *WriteError
				return errors.As(err, &e) && e.Errors[0] == FieldError{"chat_log", "Bad Request"}
			}},
		{"200WithStringError", 200, nil, `{"meta":{"errors":["Card is locked"]}}`, 1,
			func(err error) bool {
				var e *WriteError
				return errors.As(err, &e) && e.Errors[0].Message == "Card is locked"
			}},
		{"200EmptyBody", 200, nil, ``, 1, func(err error) bool { return err == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newAPIServer(t)
			s.mux.HandleFunc("PATCH /v1/dc/chat_session/data/7", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				writeRaw(w, tt.status, tt.body)
			})
			err := s.client(t).PatchCard(context.Background(), "chat_session", "7", map[string][]Value{"chat_log": {String("x")}})
			if !tt.check(err) {
				t.Errorf("err = %v (%T)", err, errors.Unwrap(err))
			}
			if n := len(s.requests()); n != tt.wantTries {
				t.Errorf("attempts = %d, want %d", n, tt.wantTries)
			}
		})
	}
}

func isStatus(status int) func(error) bool {
	return func(err error) bool { var e *APIError; return errors.As(err, &e) && e.Status == status }
}

func TestClient_Template(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{"ObjectByCode", `{"name":"Chat session","code":"chat_session","allowedFolders":[{"folderName":"Chats","folderCode":"chat_sessions"}],
			"attributes":{"is_chat_active":{"name":"Is chat active?","multiValue":false,"type":"static-value","file":false,
			"values":[{"code":"yes","value":"Yes"},{"code":"no","value":"No"}]},
			"members":{"name":"Members","multiValue":true,"type":"reference","target":["person"]}}}`},
		{"ArrayWithCodes", `{"name":"Chat session","templateCode":"chat_session","allowedFolders":[{"folderCode":"chat_sessions"}],
			"attributes":[{"code":"is_chat_active","name":"Is chat active?","type":"static-value",
			"values":[{"code":"yes","value":"Yes"},{"code":"no","value":"No"}]},
			{"code":"members","name":"Members","multiValue":true,"type":"reference"}]}`},
		// What Efecte's document allows besides: a menu entry without a
		// code, one whose value is an object (the document types it so),
		// and attribute types the checks do not know.
		{"DocumentShapes", `{"name":"Chat session","code":"chat_session","allowedFolders":[{"folderName":"Chats","folderCode":"chat_sessions"}],
			"attributes":{"is_chat_active":{"name":"Is chat active?","type":"static-value",
			"values":[{"code":"yes","value":"Yes"},{"code":"no","value":"No"},{"code":null,"value":"Unknown"},{"value":{"fi":"Ehkä"}}]},
			"members":{"name":"Members","multiValue":true,"type":"reference","target":["person"]},
			"log":{"name":"Worklog","type":"worklog"},"file":{"name":"File","type":"external-reference","file":true}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newAPIServer(t)
			s.mux.HandleFunc("GET /v1/dc/chat_session", func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, tt.body) })
			info, err := s.client(t).Template(context.Background(), "chat_session")
			if err != nil {
				t.Fatal(err)
			}
			act := info.Attributes["is_chat_active"]
			if info.Code != "chat_session" || !slices.Equal(info.Folders, []string{"chat_sessions"}) ||
				act.Name != "Is chat active?" || act.Type != "static-value" || act.MultiValue ||
				!slices.Equal(act.StaticValues[:2], []StaticValue{{"yes", "Yes"}, {"no", "No"}}) ||
				!info.Attributes["members"].MultiValue {
				t.Errorf("info = %+v", info)
			}
			if tt.name == "DocumentShapes" && !slices.Equal(act.StaticValues[2:], []StaticValue{{"", "Unknown"}, {"", `{"fi":"Ehkä"}`}}) {
				t.Errorf("menu = %+v", act.StaticValues)
			}
		})
	}
}

func timeNowPlusHour() time.Time { return time.Now().Add(time.Hour) }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
