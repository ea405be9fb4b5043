package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const soTicket = "SOTicket sandbox-chat-token"

func newSOFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, Options{Platform: PlatformSuperOffice})
}

// so sends an authorised GET to the fake's WebAPI.
func (f *fixture) so(path string) response {
	f.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = f.ts.URL + SuperOfficePrefix + path
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", soTicket)
	req.Header.Set("SO-AppToken", SuperOfficeAppToken)
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: []byte(b.String())}
}

type soErr struct {
	Error        bool
	ErrorType    string
	ErrorMessage string
}

func TestSuperOffice_Auth(t *testing.T) {
	t.Parallel()
	f := newSOFixture(t)
	tests := []struct {
		name, auth, app string
		want            int
	}{
		{"ticket and app token", soTicket, SuperOfficeAppToken, 200},
		{"bearer alone", "Bearer sandbox-chat-token", "", 200},
		{"bearer and app token", "Bearer sandbox-chat-token", SuperOfficeAppToken, 200},
		{"ticket alone", soTicket, "", 401},
		{"wrong app token", soTicket, "other", 401},
		{"wrong ticket", "SOTicket nope", SuperOfficeAppToken, 401},
		{"basic", "Basic sandbox-chat-token", "", 401},
		{"none", "", "", 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", f.ts.URL+SuperOfficePrefix+"/ChatSession?$top=1", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		if tt.app != "" {
			req.Header.Set("SO-AppToken", tt.app)
		}
		resp, err := f.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e soErr
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
		if tt.want == 401 && (!e.Error || e.ErrorType != "SoAuthenticationException" || e.ErrorMessage == "") {
			t.Errorf("%s: error body %+v", tt.name, e)
		}
	}
}

// The store's sessions come out in SuperOffice's names, casing and enums;
// a transfer is a TransferedSession message naming the receiving
// associate, who resolves to a person with an email.
func TestSuperOffice_SessionMessagesPeople(t *testing.T) {
	t.Parallel()
	f := newSOFixture(t)
	sess, msgs := exampleSession("ws-1")
	must[string](t)(f.AddCase(sess, msgs))
	id := f.PlatformSessionID("ws-1")
	if c, ok := f.CardBySession("ws-1"); !ok || c.Text("chat_session_id") != id {
		t.Fatalf("card holds %q, want the ChatSessionId %s", c.Text("chat_session_id"), id)
	}
	r := f.so("/ChatSession/" + id)
	var ent map[string]any
	r.decode(t, &ent)
	for k, want := range map[string]any{"ChatSessionId": float64(1), "Status": "Closed", "CustomerName": "Maija Meikäläinen",
		"CustomerEmail": "Maija@Example.com", "WhenRequested": "2024-06-03T11:00:00+02:00", "WhenStarted": "2024-06-03T11:02:00+02:00",
		"WhenEnded": "2024-06-03T11:07:00+02:00", "ChatbotIsActive": false, "TransferTo": nil} {
		if got := ent[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	user, _ := ent["User"].(map[string]any)
	if user["FullName"] != "Bob Builder" {
		t.Errorf("User = %v, want Bob, who has the chat now", user)
	}
	var got []soWireMessage
	f.so("/ChatSession/"+id+"/Messages").decode(t, &got)
	var lines []string
	for _, m := range got {
		lines = append(lines, strconv.FormatInt(m.ChatMessageID, 10)+" "+m.Type+" "+m.SpecialType+" "+m.SpecialParam+" "+m.Author)
	}
	want := []string{"16 ToCustomer BotMessage  Botti", "32 ToUser None  Maija Meikäläinen", "48 ToUser None  Maija Meikäläinen",
		"64 ToUser None  Maija Meikäläinen", "80 Special None  ", "96 ToCustomer None  Ann Agent",
		"97 Special TransferedSession 101 ", "112 ToCustomer None  Bob Builder"}
	if !slices.Equal(lines, want) {
		t.Errorf("messages\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	f.so("/ChatSession/"+id+"/Messages?after=96").decode(t, &got)
	if len(got) != 2 || got[0].ChatMessageID != 97 {
		t.Errorf("after=96: %+v", got)
	}
	var a soWireAssociate
	f.so("/Associate/101").decode(t, &a)
	var p struct {
		PersonID int64 `json:"PersonId"`
		Emails   []struct{ Value string }
	}
	f.so("/Person/"+strconv.FormatInt(a.PersonID, 10)).decode(t, &p)
	if a.FullName != "Bob Builder" || len(p.Emails) != 1 || p.Emails[0].Value != "BOB@example.com" {
		t.Errorf("associate 101 %+v, person %+v", a, p)
	}
	for _, path := range []string{"/ChatSession/99", "/ChatSession/x", "/ChatSession/99/Messages", "/Associate/5", "/Person/5"} {
		r := f.so(path)
		var e soErr
		r.decode(t, &e)
		if r.status != 404 || e.ErrorType != "SoNotFoundException" {
			t.Errorf("%s: %d %+v, want 404 SoNotFoundException", path, r.status, e)
		}
	}
}

type odata struct {
	NextLink string           `json:"odata.nextLink"`
	Value    []map[string]any `json:"value"`
}

// The archive pages by $top and $skip, announcing the next page in
// odata.nextLink, filters on updatedDate and orders by chatSessionId.
func TestSuperOffice_Archive(t *testing.T) {
	t.Parallel()
	f := newSOFixture(t)
	must[GenSummary](t)(f.Generate(GenOptions{Sessions: 7, Seed: 1, Start: t0}))
	q := url.Values{"$select": {"chatSessionId,status,updatedDate"}, "$orderBy": {"chatSessionId"}, "$top": {"3"}}
	next := f.ts.URL + SuperOfficePrefix + "/ChatSession?" + q.Encode()
	var ids []float64
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("the archive does not end")
		}
		var p odata
		f.so(next).decode(t, &p)
		for _, v := range p.Value {
			if v["EntityName"] != "chat" || v["PrimaryKey"] != v["chatSessionId"] || v["status"] == nil || v["updatedDate"] == "" {
				t.Errorf("row %v", v)
			}
			ids = append(ids, v["chatSessionId"].(float64))
		}
		if p.NextLink != "" && !strings.HasPrefix(p.NextLink, f.ts.URL+SuperOfficePrefix+"/ChatSession?") {
			t.Errorf("nextLink %q is not absolute on the same WebAPI", p.NextLink)
		}
		next = p.NextLink
	}
	if !slices.Equal(ids, []float64{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("ids %v", ids)
	}
	var p odata
	f.so("/ChatSession?$select=chatSessionId&$orderBy=chatSessionId%20desc&$top=1").decode(t, &p)
	if len(p.Value) != 1 || p.Value[0]["chatSessionId"] != float64(7) || p.NextLink == "" {
		t.Errorf("newest first: %+v", p)
	}
	// afterTime keeps the rows updated after the literal's second.
	f.so("/ChatSession?$select=updatedDate&$top=100").decode(t, &p)
	var dates []string
	for _, v := range p.Value {
		dates = append(dates, v["updatedDate"].(string))
	}
	slices.Sort(dates)
	for _, lit := range []string{dates[0], dates[3], dates[6]} {
		want := 0
		for _, d := range dates {
			if d > lit {
				want++
			}
		}
		f.so("/ChatSession?$top=100&$filter="+url.QueryEscape("updatedDate afterTime '"+lit+"'")).decode(t, &p)
		if len(p.Value) != want {
			t.Errorf("updated after %s: %d rows, want %d", lit, len(p.Value), want)
		}
	}
	for _, bad := range []string{"$select=nope", "$filter=" + url.QueryEscape("name begins 'x'"), "$orderBy=status", "$top=x"} {
		if r := f.so("/ChatSession?" + bad); r.status != 400 {
			t.Errorf("%s: %d, want 400", bad, r.status)
		}
	}
}

// Injected faults answer in SuperOffice's error shape.
func TestSuperOffice_Faults(t *testing.T) {
	t.Parallel()
	f := newSOFixture(t)
	f.SetFaults(Faults{Chat: Fault{RateLimitShare: 1, RetryAfter: 7}})
	r := f.so("/ChatSession")
	var e soErr
	r.decode(t, &e)
	if r.status != 429 || r.header.Get("Retry-After") != "7" || e.ErrorType != "SoTooManyRequestsException" {
		t.Errorf("429: %d %v %+v", r.status, r.header, e)
	}
	f.SetFaults(Faults{Chat: Fault{ServerErrorShare: 1}})
	r = f.so("/ChatSession")
	r.decode(t, &e)
	if r.status < 500 || !e.Error || e.ErrorType != "SoServerException" {
		t.Errorf("5xx: %d %+v", r.status, e)
	}
	f.SetFaults(Faults{Chat: Fault{MalformedShare: 1}})
	if r := f.so("/ChatSession"); json.Valid(r.body) {
		t.Errorf("malformed fault gave valid JSON: %s", r.body)
	}
}

// A SuperOffice case is served as loaded; putting it again moves its
// updatedDate, so a listing shows the change.
func TestSuperOffice_NativeCase(t *testing.T) {
	t.Parallel()
	f := newSOFixture(t)
	c := SuperOfficeCase{Dir: "inline",
		Session: json.RawMessage(`{"ChatSessionId":220,"Status":7,"CustomerName":"Ola","CustomerEmail":"ola@example.no",
			"WhenRequested":"2024-06-03T11:00:00+02:00","WhenEnded":"2024-06-03T11:10:00+02:00","Custom":{"kept":true}}`),
		Messages: []json.RawMessage{json.RawMessage(`{"ChatMessageId":5,"Type":"ToUser","Message":"hi","WhenPosted":"2024-06-03T09:01:00Z"}`)},
		Persons:  []json.RawMessage{json.RawMessage(`{"PersonId":40,"FullName":"Kari","Emails":[{"Value":"kari@example.no"}]}`)},
	}
	id := must[string](t)(f.PutSuperOfficeCase(c))
	if id != "so-220" || f.PlatformSessionID(id) != "220" {
		t.Fatalf("domain id %q → %q", id, f.PlatformSessionID(id))
	}
	if _, ok := f.CardBySession(id); !ok {
		t.Error("no card")
	}
	for _, email := range []string{"ola@example.no", "kari@example.no"} {
		if _, ok := f.PersonByEmail(email); !ok {
			t.Errorf("no person card for %s", email)
		}
	}
	if r := f.so("/ChatSession/220"); !strings.Contains(string(r.body), `"Custom":{"kept":true}`) {
		t.Errorf("entity not served as loaded: %s", r.body)
	}
	var p odata
	f.so("/ChatSession?$select=chatSessionId,status,updatedDate").decode(t, &p)
	if len(p.Value) != 1 || p.Value[0]["status"] != float64(7) || p.Value[0]["updatedDate"] != "2024-06-03T09:10:00" {
		t.Errorf("listing %+v", p.Value)
	}
	f.clock.Advance(time.Hour)
	must[string](t)(f.PutSuperOfficeCase(c))
	f.so("/ChatSession?$select=updatedDate").decode(t, &p)
	if p.Value[0]["updatedDate"] != "2024-06-03T13:00:00" {
		t.Errorf("after a put: %v", p.Value[0])
	}
	if cards := f.CardsBySession(id); len(cards) != 1 {
		t.Errorf("%d cards after two puts", len(cards))
	}
	g := newFixture(t, Options{})
	if _, err := g.PutSuperOfficeCase(c); err == nil {
		t.Error("the generic platform took a SuperOffice case")
	}
}
