package superoffice_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/superoffice"
)

// wire is a hand-written SuperOffice WebAPI for the adapter's unit tests:
// bodies are given as the vendor writes them, so that tests can send what
// the sandbox's fake never would.
type wire struct {
	t           *testing.T
	mu          sync.Mutex
	sessions    map[string]string         // ChatSessionId → ChatSessionEntity JSON
	messages    map[string][]string       // ChatSessionId → ChatMessage JSON objects
	assocs      map[string]string         // AssociateId → JSON
	persons     map[string]string         // PersonId → JSON
	pages       map[string]string         // raw query → archive page JSON
	hits        map[string]int            // request class → count
	headers     []http.Header             // of every request
	answer      func(r *http.Request) int // status to answer first, 0 for none
	ignoreAfter bool
	srv         *httptest.Server
}

func newWire(t *testing.T) *wire {
	w := &wire{t: t, sessions: map[string]string{}, messages: map[string][]string{}, assocs: map[string]string{},
		persons: map[string]string{}, pages: map[string]string{}, hits: map[string]int{}}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

const apiRoot = "/Cust1/api/v1"

func (w *wire) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.headers = append(w.headers, r.Header.Clone())
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, apiRoot+"/"), "/")
	class := parts[0]
	if len(parts) == 3 {
		class += "/" + parts[2]
	}
	w.hits[class]++
	if w.answer != nil {
		if st := w.answer(r); st != 0 {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(st)
			fmt.Fprintf(rw, `{"Error":true,"ErrorType":"SoException","ErrorMessage":"answered %d for %s"}`, st,
				r.Header.Get("Authorization"))
			return
		}
	}
	var body string
	found := false
	switch {
	case class == "ChatSession" && len(parts) == 1:
		body, found = w.pages[r.URL.RawQuery]
		if !found {
			body, found = w.pages["*"]
		}
	case class == "ChatSession":
		body, found = w.sessions[parts[1]]
	case class == "ChatSession/Messages":
		list := w.messages[parts[1]]
		_, found = w.sessions[parts[1]]
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		var keep []string
		for _, m := range list {
			var id struct{ ChatMessageId int64 }
			json.Unmarshal([]byte(m), &id)
			if w.ignoreAfter || id.ChatMessageId > after {
				keep = append(keep, m)
			}
		}
		body = "[" + strings.Join(keep, ",") + "]"
	case class == "Associate":
		body, found = w.assocs[parts[1]]
	case class == "Person":
		body, found = w.persons[parts[1]]
	}
	rw.Header().Set("Content-Type", "application/json")
	if !found {
		rw.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(rw, `{"Error":true,"ErrorType":"SoNotFoundException","ErrorMessage":"%s not found","ErrorSource":"x"}`, class)
		return
	}
	fmt.Fprint(rw, body)
}

func (w *wire) hit(class string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hits[class]
}

// client is an adapter of w with short transport waits, a clock at now
// and a logger writing to logs.
func (w *wire) client(cache source.Cache, logs *bytes.Buffer, opts ...func(*superoffice.Options)) *superoffice.Client {
	w.t.Helper()
	o := superoffice.Options{BaseURL: w.srv.URL + apiRoot, Token: "tok-secret", ReopenGrace: 30 * time.Minute,
		Cache: cache, Now: func() time.Time { return now }, PageSize: 2,
		HTTP: httpclient.Options{Retries: -1, MinWait: time.Millisecond, MaxWait: time.Millisecond}}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	for _, f := range opts {
		f(&o)
	}
	c, err := superoffice.New(o)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

var now = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)

// so is a ChatSessionEntity with the given members over a minimal one.
func so(id int, members map[string]any) string {
	m := map[string]any{"ChatSessionId": id, "TopicId": 3, "Status": "UserLast", "CustomerName": "Maija",
		"CustomerEmail": "maija@example.com", "WhenRequested": "2024-06-03T11:00:00.1234567+02:00",
		"WhenStarted": nil, "WhenEnded": nil, "WhenIdle": "2024-06-03T11:00:00+02:00", "User": nil,
		"TransferTo": nil, "ChatbotIsActive": false}
	for k, v := range members {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// msg is a ChatMessage.
func msg(id, session int, typ any, special any, author, text string, posted any) string {
	b, _ := json.Marshal(map[string]any{"ChatMessageId": id, "ChatSessionId": session, "Type": typ,
		"Message": text, "Author": author, "ReadByCustomer": 0, "SpecialType": special, "SpecialParam": "",
		"WhenPosted": posted})
	return string(b)
}

// special is a Special message with SpecialParam param.
func special(id, session int, specialType, param, posted string) string {
	b, _ := json.Marshal(map[string]any{"ChatMessageId": id, "ChatSessionId": session, "Type": "Special",
		"Message": specialType, "Author": "", "SpecialType": specialType, "SpecialParam": param, "WhenPosted": posted})
	return string(b)
}

func user(id int, name string) map[string]any {
	return map[string]any{"AssociateId": id, "Name": strings.ToUpper(name[:3]), "FullName": name, "PersonId": id + 100}
}

// agent registers associate id with a person holding email.
func (w *wire) agent(id int, name, email string) {
	b, _ := json.Marshal(user(id, name))
	w.assocs[strconv.Itoa(id)] = string(b)
	emails := []map[string]string{}
	if email != "" {
		emails = append(emails, map[string]string{"Value": email, "StrippedValue": email})
	}
	b, _ = json.Marshal(map[string]any{"PersonId": id + 100, "Emails": emails})
	w.persons[strconv.Itoa(id+100)] = string(b)
}
