package esm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// apiPath is where ESM serves its REST API, below the tenant's host.
const apiPath = "/rest-api/itsm/v1"

// Distinctive credentials, searched for in every error a test sees.
const (
	testLogin    = "syncworker-rest"
	testPassword = "pw-Xq7!zK9-SECRET"
	// tokenMark is part of every token the fake issues.
	tokenMark = "SIGNATURE-TOKENSECRET"
)

// fakeESM implements the ESM REST subset of SPEC §4.2 in memory, shaped
// like Efecte's published examples. Faults can be injected per request.
type fakeESM struct {
	*httptest.Server
	t *testing.T

	mu        sync.Mutex
	now       func() time.Time
	ttl       time.Duration
	tokens    map[string]time.Time // token → exp
	templates map[string]map[string]fakeAttrDef
	cards     map[string]map[int64]map[string][]Value // template → id → attr → values
	nextID    int64
	faults    []*fault
	// looseFilter makes the list endpoint ignore the EQL filter, like a
	// server that returns more than was asked for.
	looseFilter bool

	logins   atomic.Int32
	requests atomic.Int32
	posts    atomic.Int32
}

type fakeAttrDef struct {
	name, typ string
	multi     bool
	statics   [][2]string // {code, value}
}

// fault changes the answer to the next n requests that match.
type fault struct {
	match func(*http.Request) bool
	n     int
	apply func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func newFakeESM(t *testing.T) *fakeESM {
	t.Helper()
	f := &fakeESM{
		t: t, now: time.Now, ttl: time.Hour, nextID: 1000,
		tokens: map[string]time.Time{},
		cards:  map[string]map[int64]map[string][]Value{"chat_session": {}, "person": {}},
		templates: map[string]map[string]fakeAttrDef{
			"chat_session": {
				"chat_session_id":  {name: "Chat session id", typ: "string"},
				"chat_log":         {name: "Chat log", typ: "string"},
				"message_count":    {name: "Message count", typ: "number"},
				"members":          {name: "Members", typ: "reference", multi: true},
				"support_person":   {name: "Support person", typ: "reference"},
				"customer":         {name: "Customer", typ: "reference"},
				"start_time":       {name: "Start time", typ: "date"},
				"end_time":         {name: "End time", typ: "date"},
				"first_reply_wait": {name: "First reply wait", typ: "number"},
				"is_chat_active": {name: "Is chat active?", typ: "static-value",
					statics: [][2]string{{"yes", "Yes"}, {"no", "No"}}},
			},
			"person": {
				"email":     {name: "E-mail", typ: "string"},
				"full_name": {name: "Full name", typ: "string"},
			},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+apiPath+"/users/login", f.handleLogin)
	mux.HandleFunc("GET "+apiPath+"/dc/{template}", f.auth(f.handleTemplate))
	mux.HandleFunc("GET "+apiPath+"/dc/{template}/data", f.auth(f.handleList))
	mux.HandleFunc("POST "+apiPath+"/dc/{template}/data", f.auth(f.handleCreate))
	mux.HandleFunc("GET "+apiPath+"/dc/{template}/data/{id}", f.auth(f.handleGet))
	mux.HandleFunc("PATCH "+apiPath+"/dc/{template}/data/{id}", f.auth(f.handlePatch))
	f.Server = httptest.NewServer(f.withFaults(mux))
	t.Cleanup(f.Close)
	return f
}

// BaseURL is the API root a client is configured with.
func (f *fakeESM) BaseURL() string { return f.URL + apiPath }

// inject adds a fault for the next n requests with method and a path
// ending in suffix.
func (f *fakeESM) inject(method, suffix string, n int, apply func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{
		match: func(r *http.Request) bool { return r.Method == method && strings.HasSuffix(r.URL.Path, suffix) },
		n:     n, apply: apply,
	})
}

func (f *fakeESM) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/data") {
			f.posts.Add(1)
		}
		if flt := f.takeFault(r); flt != nil {
			flt.apply(w, r, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeESM) takeFault(r *http.Request) *fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, flt := range f.faults {
		if flt.n > 0 && flt.match(r) {
			flt.n--
			return flt
		}
	}
	return nil
}

// Fault actions.

func failWith(status int, body string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) { writeRaw(w, status, body) }
}

// afterHandling lets the real handler do its work (a create succeeds),
// then answers with status instead.
func afterHandling(status int) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(httptest.NewRecorder(), r)
		writeRaw(w, status, `{"code":503,"message":"Service temporarily unavailable","error":"Service Unavailable"}`)
	}
}

// dropAfterHandling lets the handler work, then closes the connection
// without an answer.
func dropAfterHandling(w http.ResponseWriter, r *http.Request, next http.Handler) {
	next.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// slowAfterHandling lets the handler work, then answers only after d.
func slowAfterHandling(d time.Duration) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		writeRaw(w, rec.Code, rec.Body.String())
	}
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	writeRaw(w, status, string(b))
}

// apiException is Efecte's error body.
func apiException(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"code": status, "message": msg,
		"error": http.StatusText(status), "timestamp": "2024-05-01T09:58:00Z"})
}

// makeJWT returns an unsigned-looking JWT whose payload carries exp.
func makeJWT(exp time.Time, n int32) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload := enc.EncodeToString(fmt.Appendf(nil, `{"sub":"%s","iat":%d,"exp":%d}`, testLogin, exp.Add(-time.Hour).Unix(), exp.Unix()))
	return head + "." + payload + "." + tokenMark + strconv.Itoa(int(n))
}

func (f *fakeESM) handleLogin(w http.ResponseWriter, r *http.Request) {
	n := f.logins.Add(1)
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		apiException(w, http.StatusBadRequest, "Expected a form")
		return
	}
	if r.PostForm.Get("login") != testLogin || r.PostForm.Get("password") != testPassword {
		apiException(w, http.StatusUnauthorized, "Wrong credentials provided.")
		return
	}
	f.mu.Lock()
	exp := f.now().Add(f.ttl)
	tok := makeJWT(exp, n)
	f.tokens[tok] = exp
	f.mu.Unlock()
	w.Header().Set("Authorization", "Bearer "+tok)
	writeJSON(w, http.StatusOK, map[string]any{"code": 200, "message": "OK", "token": "Bearer " + tok})
}

// revokeTokens makes every issued token fail with 401, as after a server
// restart.
func (f *fakeESM) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeESM) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		exp, known := f.tokens[tok]
		valid := ok && known && f.now().Before(exp)
		f.mu.Unlock()
		if !valid {
			apiException(w, http.StatusUnauthorized, "User is unauthorized")
			return
		}
		h(w, r)
	}
}

func (f *fakeESM) handleTemplate(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("template")
	f.mu.Lock()
	defs, ok := f.templates[code]
	f.mu.Unlock()
	if !ok {
		apiException(w, http.StatusNotFound, "Template not found")
		return
	}
	attrs := map[string]any{}
	for c, d := range defs {
		a := map[string]any{"name": d.name, "type": d.typ, "multiValue": d.multi, "file": false}
		if d.statics != nil {
			var vs []map[string]string
			for _, s := range d.statics {
				vs = append(vs, map[string]string{"code": s[0], "value": s[1]})
			}
			a["values"] = vs
		}
		attrs[c] = a
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": code, "code": code,
		"allowedFolders": []map[string]string{{"folderName": "Chats", "folderCode": "chat_sessions"}},
		"attributes":     attrs})
}

// seed stores a card directly and returns its id.
func (f *fakeESM) seed(template string, data map[string][]Value) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	stored := map[string][]Value{}
	for k, v := range data {
		stored[k] = slices.Clone(v)
	}
	f.cards[template][f.nextID] = stored
	return strconv.FormatInt(f.nextID, 10)
}

func (f *fakeESM) cardCount(template string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cards[template])
}

func (f *fakeESM) handleList(w http.ResponseWriter, r *http.Request) {
	template, q := r.PathValue("template"), r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 200 {
		apiException(w, http.StatusBadRequest, "limit must be 1..200")
		return
	}
	conds, err := parseEQL(q.Get("filter"))
	if err != nil {
		apiException(w, http.StatusBadRequest, "Invalid filter: "+err.Error())
		return
	}
	filterID, _ := strconv.ParseInt(q.Get("filterId"), 10, 64)
	var attrs []string
	if s := q.Get("selectedAttributes"); s != "" {
		attrs = strings.Split(s, ",")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cards, ok := f.cards[template]
	if !ok {
		apiException(w, http.StatusNotFound, "Template not found")
		return
	}
	var ids []int64
	for id, data := range cards {
		if (filterID == 0 || id < filterID) && (f.looseFilter || matches(data, conds)) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	slices.SortFunc(ids, func(a, b int64) int { return int(b - a) })
	links := map[string]string{}
	if len(ids) > limit {
		ids = ids[:limit]
		links["next"] = fmt.Sprintf("http://efecte.example%s/dc/%s/data?limit=%d&filterId=%d", apiPath, template, limit, ids[limit-1])
	}
	data := make([]any, 0, len(ids))
	for _, id := range ids {
		data = append(data, f.cardJSON(template, id, attrs))
	}
	writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"count": len(data), "limit": limit, "links": links}, "data": data})
}

// cardJSON renders a stored card the way Efecte does: attribute objects
// with name and type, references with their target's details.
func (f *fakeESM) cardJSON(template string, id int64, attrs []string) map[string]any {
	data := map[string]any{}
	for code, vs := range f.cards[template][id] {
		if attrs != nil && !slices.Contains(attrs, code) {
			continue
		}
		def := f.templates[template][code]
		values := make([]any, 0, len(vs))
		for _, v := range vs {
			values = append(values, f.valueJSON(v))
		}
		data[code] = map[string]any{"name": def.name, "type": def.typ, "values": values}
	}
	return map[string]any{"name": fmt.Sprintf("%s %d", template, id), "dataCardId": strconv.FormatInt(id, 10),
		"templateName": template, "templateCode": template, "templateId": "362524",
		"folderName": "Chats", "folderCode": "chat_sessions", "data": data, "deleted": false, "hidden": false}
}

func (f *fakeESM) valueJSON(v Value) any {
	if v.Kind() == KindRef {
		return map[string]any{"name": "Person " + v.RefID(), "dataCardId": v.RefID(), "templateName": "Person",
			"templateCode": "person", "deleted": false, "hidden": false}
	}
	return v
}

func (f *fakeESM) handleGet(w http.ResponseWriter, r *http.Request) {
	template := r.PathValue("template")
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.cards[template][id]; !ok {
		apiException(w, http.StatusNotFound, "Resource not found")
		return
	}
	writeJSON(w, http.StatusOK, f.cardJSON(template, id, nil))
}

type fakeWrite struct {
	DataCardID string                     `json:"dataCardId"`
	FolderCode string                     `json:"folderCode"`
	Data       map[string]json.RawMessage `json:"data"`
}

func (f *fakeESM) handlePatch(w http.ResponseWriter, r *http.Request) {
	template := r.PathValue("template")
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var req fakeWrite
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.DataCardID != r.PathValue("id") {
		apiException(w, http.StatusBadRequest, "Invalid JSON.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	card, ok := f.cards[template][id]
	if !ok {
		apiException(w, http.StatusNotFound, "Resource not found")
		return
	}
	errs := f.apply(template, card, req.Data)
	writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"timestamp": "2024-05-01T09:58:00Z", "errors": errs},
		"dataCard": map[string]string{"dataCardId": req.DataCardID}})
}

func (f *fakeESM) handleCreate(w http.ResponseWriter, r *http.Request) {
	template := r.PathValue("template")
	var req fakeWrite
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.FolderCode == "" {
		apiException(w, http.StatusBadRequest, "Invalid JSON.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.cards[template]; !ok {
		apiException(w, http.StatusNotFound, "Template not found")
		return
	}
	card := map[string][]Value{}
	errs := f.apply(template, card, req.Data)
	f.nextID++
	f.cards[template][f.nextID] = card
	writeJSON(w, http.StatusCreated, map[string]any{"meta": map[string]any{"errors": errs},
		"dataCard": map[string]string{"dataCardId": strconv.FormatInt(f.nextID, 10)}})
}

// apply writes data onto card, returning Efecte-style errors for what it
// could not write. Attributes without errors are written.
func (f *fakeESM) apply(template string, card map[string][]Value, data map[string]json.RawMessage) []map[string]string {
	var errs []map[string]string
	fail := func(code, typ, msg string) {
		errs = append(errs, map[string]string{"attributeCode": code, "attributeType": typ, "message": msg, "error": "Bad Request"})
	}
	for code, raw := range data {
		def, ok := f.templates[template][code]
		if !ok {
			fail(code, "", "Attribute not found from template: "+code)
			continue
		}
		var elem struct{ Values []json.RawMessage }
		if err := json.Unmarshal(raw, &elem); err != nil || elem.Values == nil {
			fail(code, def.typ, "values missing")
			continue
		}
		vs, msg := decodeForDef(def, elem.Values)
		if msg != "" {
			fail(code, def.typ, msg)
			continue
		}
		card[code] = vs
	}
	return errs
}

func decodeForDef(def fakeAttrDef, raws []json.RawMessage) ([]Value, string) {
	if len(raws) > 1 && !def.multi {
		return nil, "Attribute is not multi-value"
	}
	vs := []Value{}
	for _, raw := range raws {
		v, ok, err := decodeValue(raw, def.typ)
		if err != nil || !ok {
			return nil, fmt.Sprintf("Invalid value %s", raw)
		}
		if def.typ == "static-value" && !slices.Contains(def.statics, [2]string{v.Code(), v.Text()}) {
			return nil, fmt.Sprintf("Couldn't find static-value with value: %s and code: %s from attribute: %s", v.Text(), v.Code(), def.name)
		}
		vs = append(vs, v)
	}
	return vs, ""
}

// eqlCond is one $attr$ = 'value' of a filter.
type eqlCond struct{ attr, value string }

// parseEQL is a strict reader of the EQL subset of SPEC §4.2: conditions
// $code$ = 'value' joined by AND, a doubled quote inside a value standing
// for one. It is how the tests prove what a query means.
func parseEQL(s string) ([]eqlCond, error) {
	var conds []eqlCond
	for rest := s; rest != ""; {
		if len(conds) > 0 {
			var ok bool
			if rest, ok = strings.CutPrefix(rest, " AND "); !ok {
				return nil, fmt.Errorf("want AND at %q", rest)
			}
		}
		c, after, err := parseCond(rest)
		if err != nil {
			return nil, err
		}
		conds, rest = append(conds, c), after
	}
	return conds, nil
}

func parseCond(s string) (eqlCond, string, error) {
	s, ok := strings.CutPrefix(s, "$")
	code, s, found := strings.Cut(s, "$")
	if !ok || !found || ValidCode(code) != nil {
		return eqlCond{}, "", fmt.Errorf("want $code$ at %q", s)
	}
	if s, ok = strings.CutPrefix(s, " = '"); !ok {
		return eqlCond{}, "", fmt.Errorf("want = ' after $%s$", code)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return eqlCond{code, b.String()}, s[i+1:], nil
	}
	return eqlCond{}, "", fmt.Errorf("unterminated string")
}

// matches compares like ESM: static menus by display value, references by
// id, strings case-insensitively.
func matches(card map[string][]Value, conds []eqlCond) bool {
	for _, c := range conds {
		if !slices.ContainsFunc(card[c.attr], func(v Value) bool { return strings.EqualFold(v.Text(), c.value) }) {
			return false
		}
	}
	return true
}
