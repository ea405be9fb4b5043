package esmspec

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// spec loads the document; without it the test is skipped, saying how to
// get it, except in CI, where it fails.
func spec(t *testing.T) *Spec {
	t.Helper()
	s, err := Load()
	switch {
	case errors.Is(err, ErrMissing) && !InCI():
		t.Skip(err)
	case err != nil:
		t.Fatal(err)
	}
	return s
}

func TestLoad(t *testing.T) {
	s := spec(t)
	if !strings.HasSuffix(s.Path(), "/shared/vendor/efecte-esm-openapi.json") {
		t.Errorf("read %s", s.Path())
	}
	if len(Deviations()) != len(amendments)+len(tolerations) {
		t.Errorf("deviations %v", Deviations())
	}
}

// exchange is one scripted request and the answer the server gives it.
type exchange struct {
	name                string
	method, target      string
	auth                bool
	contentType, body   string
	status              int
	answerType, answer  string
	header              map[string]string
	wantViolation       string // "" for none
	wantRequestChecked  bool
	wantResponseChecked bool
}

const jsonType = "application/json"

func TestHandler(t *testing.T) {
	s := spec(t)
	card := `{"dataCardId":"7","templateCode":"chat_session","folderCode":"chat_sessions","data":{` +
		`"chat_session_id":{"type":"string","values":[{"value":"ws-1"}]},` +
		`"message_count":{"type":"number","values":[{"value":7}]},` +
		`"start_time":{"type":"date","values":[{"value":"2024-06-03T09:00:00Z"}]},` +
		`"is_chat_active":{"type":"static-value","values":[{"value":"No","code":null}]},` +
		`"members":{"type":"reference","values":[{"dataCardId":"2","name":"Ann","templateCode":"person","deleted":false,"hidden":false,"url":"/dc/person/data/2"}]}}}`
	patch := `{"dataCardId":"7","data":{"chat_log":{"values":[{"value":"x"}]},"message_count":{"values":[{"value":3}]},` +
		`"customer":{"values":[{"dataCardId":"2"}]},"end_time":{"values":[]},"is_chat_active":{"values":[{"value":"No","code":"no"}]}}}`
	written := `{"meta":{"timestamp":"2024-06-03T12:00:00Z","errors":[]},"dataCard":{"dataCardId":"7"}}`
	apiException := `{"code":404,"message":"data card not found","error":"Not Found","url":"http://h/x","timestamp":"2024-06-03T12:00:00Z"}`
	tests := []exchange{
		{name: "Login", method: "POST", target: "/users/login", contentType: "application/x-www-form-urlencoded",
			body: "login=a&password=b", status: 200, answerType: jsonType,
			answer:             `{"code":200,"message":"Authenticated","timestamp":"2024-06-03T12:00:00Z","token":"Bearer a.b.c"}`,
			wantRequestChecked: true, wantResponseChecked: true},
		{name: "LoginTokenNotAString", method: "POST", target: "/users/login", contentType: "application/x-www-form-urlencoded",
			body: "login=a&password=b", status: 200, answerType: jsonType, answer: `{"token":42}`,
			wantViolation: `answer 200`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "LoginWithoutPassword", method: "POST", target: "/users/login", contentType: "application/x-www-form-urlencoded",
			body: "login=a", status: 401, answerType: jsonType, answer: apiException,
			wantViolation: `property "password" is missing`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "ListWithoutLimit", method: "GET", target: "/dc/chat_session/data?dataCards=true", auth: true,
			status: 200, answerType: jsonType, answer: `{"meta":{"count":0},"data":[]}`,
			wantViolation: `parameter "limit" in query has an error`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "ListFilterIDNotAnInteger", method: "GET", target: "/dc/chat_session/data?limit=5&filterId=x", auth: true,
			status: 404, wantViolation: `parameter "filterId"`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "ListUnlistedStatus", method: "GET", target: "/dc/chat_session/data?limit=5", auth: true,
			status: 400, answerType: jsonType, answer: apiException,
			wantViolation: `status is not supported`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "ListWithoutToken", method: "GET", target: "/dc/chat_session/data?limit=5",
			status: 401, answerType: jsonType, answer: apiException,
			wantViolation: `Bearer`, wantRequestChecked: true},
		{name: "Stream", method: "GET", target: "/dc/chat_session/data/stream?dataCards=true&filter=%24a%24%20%3D%20%27b%27", auth: true,
			status: 200, answerType: jsonType, answer: `{"data":[` + card + `],"meta":{"count":1}}`,
			wantRequestChecked: true, wantResponseChecked: true},
		{name: "StreamNotServed", method: "GET", target: "/dc/chat_session/data/stream", auth: true,
			status: 405, wantRequestChecked: true},
		{name: "GetCard", method: "GET", target: "/dc/chat_session/data/7", auth: true,
			status: 200, answerType: jsonType, answer: card, wantRequestChecked: true, wantResponseChecked: true},
		{name: "GetCardWithoutFolder", method: "GET", target: "/dc/chat_session/data/7", auth: true,
			status: 200, answerType: jsonType, answer: strings.Replace(card, `"folderCode":"chat_sessions",`, "", 1),
			wantViolation: `property "folderCode" is missing`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "Patch", method: "PATCH", target: "/dc/chat_session/data/7", auth: true, contentType: jsonType, body: patch,
			status: 200, answerType: jsonType, answer: written, wantRequestChecked: true, wantResponseChecked: true},
		{name: "PatchReferenceByNumber", method: "PATCH", target: "/dc/chat_session/data/7", auth: true, contentType: jsonType,
			body: `{"dataCardId":"7","data":{"customer":{"values":[{"dataCardId":2}]}}}`, status: 200, answerType: jsonType, answer: written,
			wantViolation: `request: request body has an error`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "PatchWithoutDataCardID", method: "PATCH", target: "/dc/chat_session/data/7", auth: true, contentType: jsonType,
			body: `{"data":{}}`, status: 403,
			wantViolation: `property "dataCardId" is missing`, wantRequestChecked: true, wantResponseChecked: true},
		{name: "PatchFieldErrors", method: "PATCH", target: "/dc/chat_session/data/7", auth: true, contentType: jsonType, body: patch,
			status: 200, answerType: jsonType,
			answer:             `{"meta":{"errors":[{"attributeCode":"customer","attributeType":"reference","message":"no card","error":"Bad Request"}]},"dataCard":{"dataCardId":"7"}}`,
			wantRequestChecked: true, wantResponseChecked: true},
		{name: "PatchExpiredToken", method: "PATCH", target: "/dc/chat_session/data/7", auth: true, contentType: jsonType, body: patch,
			status: 401, answerType: jsonType, answer: apiException, wantRequestChecked: true},
		{name: "GatewayError", method: "GET", target: "/dc/chat_session", auth: true,
			status: 502, answerType: "text/html", answer: "<html>bad gateway</html>", wantRequestChecked: true},
		{name: "BrokenOnPurpose", method: "GET", target: "/dc/chat_session", auth: true, status: 200, answerType: jsonType,
			answer: `{"name":`, header: map[string]string{sandbox.FaultHeader: sandbox.FaultTruncated}, wantRequestChecked: true},
		{name: "Template", method: "GET", target: "/dc/chat_session", auth: true, status: 200, answerType: jsonType,
			answer: `{"name":"Chat session","code":"chat_session","allowedFolders":[{"folderName":"Chat sessions","folderCode":"chat_sessions"}],` +
				`"attributes":{"is_chat_active":{"name":"Is chat active?","type":"static-value","multiValue":false,"values":[{"code":"yes","value":"Yes"}]}}}`,
			wantRequestChecked: true, wantResponseChecked: true},
		{name: "UnknownEndpoint", method: "GET", target: "/dc/chat_session/data/7/chat_log/x/y", auth: true, status: 404,
			wantViolation: "no operation of the document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if b, _ := io.ReadAll(r.Body); string(b) != tt.body {
					t.Errorf("the handler read %q, want the body %q", b, tt.body)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if tt.answerType != "" {
					w.Header().Set("Content-Type", tt.answerType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.answer)
			}), func(v string) { got = append(got, v) })
			req := httptest.NewRequest(tt.method, "http://127.0.0.1:8080"+sandbox.ESMPrefix+tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth {
				req.Header.Set("Authorization", "Bearer a.b.c")
			}
			before := Totals()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || rec.Body.String() != tt.answer {
				t.Errorf("the client got %d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.answer)
			}
			switch {
			case tt.wantViolation == "" && len(got) > 0:
				t.Errorf("violations:\n%s", strings.Join(got, "\n"))
			case tt.wantViolation != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tt.wantViolation)):
				t.Errorf("violations %q, want one with %q", got, tt.wantViolation)
			}
			after := Totals()
			if checked := after.Requests > before.Requests; checked != tt.wantRequestChecked {
				t.Errorf("request checked: %v, want %v", checked, tt.wantRequestChecked)
			}
			if checked := after.Responses > before.Responses; checked != tt.wantResponseChecked {
				t.Errorf("answer checked: %v, want %v", checked, tt.wantResponseChecked)
			}
		})
	}
}

func TestHandler_PassesOtherAPIs(t *testing.T) {
	s := spec(t)
	var got []string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), func(v string) { got = append(got, v) })
	before := Totals()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", sandbox.ChatPrefix+"/sessions?limit=x", nil))
	if rec.Code != http.StatusTeapot || len(got) > 0 || Totals() != before {
		t.Errorf("chat request: %d, violations %v", rec.Code, got)
	}
}
