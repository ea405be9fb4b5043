package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const maxBodyBytes = 8 << 20

type wireCard struct {
	DataCardID   string              `json:"dataCardId"`
	Name         string              `json:"name"`
	TemplateCode string              `json:"templateCode"`
	TemplateName string              `json:"templateName"`
	FolderCode   string              `json:"folderCode"`
	FolderName   string              `json:"folderName"`
	Data         map[string]wireAttr `json:"data"`
}

type wireAttr struct {
	Name   string           `json:"name"`
	Type   string           `json:"type"`
	Values []map[string]any `json:"values"`
}

type wireCardInfo struct {
	DataCardID string `json:"dataCardId"`
	Name       string `json:"name"`
	URL        string `json:"url"`
}

type wireMeta struct {
	Timestamp string      `json:"timestamp"`
	URL       string      `json:"url,omitempty"`
	Errors    []restError `json:"errors"`
}

type wireCardRef struct {
	DataCardID string `json:"dataCardId"`
}

// wireWriteResult is Efecte's RESTDataCardResponse.
type wireWriteResult struct {
	Meta     wireMeta     `json:"meta"`
	DataCard *wireCardRef `json:"dataCard,omitempty"`
}

// wire renders c; with selected non-nil only those attributes, present
// even when empty; otherwise every attribute that has values.
func (st *esmStore) wire(c *card, selected []int) wireCard {
	t := c.td.t
	w := wireCard{
		DataCardID:   strconv.FormatInt(c.id, 10),
		Name:         c.name(),
		TemplateCode: t.code,
		TemplateName: t.name,
		FolderCode:   c.folder,
		Data:         make(map[string]wireAttr),
	}
	for _, f := range t.folders {
		if f.code == c.folder {
			w.FolderName = f.name
		}
	}
	add := func(i int) {
		a := &t.attrs[i]
		wa := wireAttr{Name: a.name, Type: a.typ, Values: make([]map[string]any, 0, len(c.vals[i]))}
		for _, v := range c.vals[i] {
			wa.Values = append(wa.Values, st.wireValue(a, v))
		}
		w.Data[a.code] = wa
	}
	if selected != nil {
		for _, i := range selected {
			add(i)
		}
		return w
	}
	for i := range t.attrs {
		if len(c.vals[i]) > 0 {
			add(i)
		}
	}
	return w
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + ESMPrefix
}

// linkBase is the API root next links name: Options.LinkBaseURL, or the
// one the request came in on.
func (s *Server) linkBase(r *http.Request) string {
	if s.opts.LinkBaseURL != "" {
		return strings.TrimRight(s.opts.LinkBaseURL, "/")
	}
	return baseURL(r)
}

// cardURL is a card's url as ESM gives it in info elements and
// references: relative to the API root.
func cardURL(template string, id int64) string {
	return "/dc/" + template + "/data/" + strconv.FormatInt(id, 10)
}

// template finds the template of the request path or answers 404.
func (s *Server) template(w http.ResponseWriter, r *http.Request) (*tmplData, bool) {
	td, ok := s.esm.tmpls[r.PathValue("template")]
	if !ok {
		s.writeError(w, r, APIESM, http.StatusNotFound, "unknown template "+r.PathValue("template"))
	}
	return td, ok
}

// handleGetTemplate serves GET /dc/{template}.
func (s *Server) handleGetTemplate(w http.ResponseWriter, r *http.Request) {
	if td, ok := s.template(w, r); ok {
		writeJSON(w, http.StatusOK, td.t.wire())
	}
}

// selectedAttrs parses selectedAttributes; nil when absent.
func selectedAttrs(t *template, v string) ([]int, error) {
	if v == "" {
		return nil, nil
	}
	out := []int{}
	for code := range strings.SplitSeq(v, ",") {
		code = strings.TrimSpace(code)
		i, _, ok := t.attr(code)
		if !ok {
			return nil, fmt.Errorf("unknown attribute %q in selectedAttributes", code)
		}
		out = append(out, i)
	}
	return out, nil
}

type listQuery struct {
	limit     int
	conds     []cond
	below     int64
	dataCards bool
	selected  []int
}

// parseListQuery reads the query of a listing. Efecte's document makes
// limit required (1..200) and filterId an integer, 0 or absent for none.
func parseListQuery(t *template, q url.Values) (listQuery, error) {
	lq := listQuery{}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n < 1 || n > MaxCardPageSize {
		return lq, fmt.Errorf("limit is required, from 1 to %d", MaxCardPageSize)
	}
	lq.limit = n
	if v := q.Get("filterId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return lq, fmt.Errorf("filterId must be a data card id (an integer), or 0 for none")
		}
		lq.below = n
	}
	return lq, parseSelection(t, q, &lq)
}

// parseSelection reads what a listing and a stream share: the EQL filter,
// dataCards and selectedAttributes.
func parseSelection(t *template, q url.Values, lq *listQuery) error {
	if f := strings.TrimSpace(q.Get("filter")); f != "" {
		conds, err := parseEQL(t, f)
		if err != nil {
			return err
		}
		lq.conds = conds
	}
	lq.dataCards, _ = strconv.ParseBool(q.Get("dataCards"))
	var err error
	lq.selected, err = selectedAttrs(t, q.Get("selectedAttributes"))
	return err
}

// render returns c as a list or stream entry: the card itself with
// dataCards, else its info element. The caller holds st.mu.
func (st *esmStore) render(c *card, lq listQuery) any {
	if lq.dataCards {
		return st.wire(c, lq.selected)
	}
	return wireCardInfo{DataCardID: strconv.FormatInt(c.id, 10), Name: c.name(), URL: cardURL(c.td.t.code, c.id)}
}

// handleListCards serves GET /dc/{template}/data: cards in descending id,
// below filterId, matching the EQL filter, with a next link while more
// match.
func (s *Server) handleListCards(w http.ResponseWriter, r *http.Request) {
	td, ok := s.template(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	lq, err := parseListQuery(td.t, q)
	if err != nil {
		s.writeError(w, r, APIESM, http.StatusBadRequest, err.Error())
		return
	}
	st := s.esm
	st.mu.RLock()
	cards, more := st.list(td, lq.conds, lq.below, lq.limit)
	data := make([]any, 0, len(cards))
	for _, c := range cards {
		data = append(data, st.render(c, lq))
	}
	st.mu.RUnlock()
	if len(data) == 0 && s.opts.NotFoundOnEmpty {
		s.writeError(w, r, APIESM, http.StatusNotFound, "no data cards found")
		return
	}
	links := map[string]string{}
	if more {
		q.Set("filterId", strconv.FormatInt(cards[len(cards)-1].id, 10))
		links["next"] = s.linkBase(r) + "/dc/" + td.t.code + "/data?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"meta": map[string]any{"count": len(data), "limit": lq.limit, "links": links},
		"data": data,
	})
}

// handleGetCard serves GET /dc/{template}/data/{id}.
func (s *Server) handleGetCard(w http.ResponseWriter, r *http.Request) {
	td, ok := s.template(w, r)
	if !ok {
		return
	}
	selected, err := selectedAttrs(td.t, r.URL.Query().Get("selectedAttributes"))
	if err != nil {
		s.writeError(w, r, APIESM, http.StatusBadRequest, err.Error())
		return
	}
	st := s.esm
	st.mu.RLock()
	c := st.lookup(td, r.PathValue("id"))
	var out wireCard
	if c != nil {
		out = st.wire(c, selected)
	}
	st.mu.RUnlock()
	if c == nil {
		s.writeError(w, r, APIESM, http.StatusNotFound, "data card not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// decodeBody reads a JSON body, numbers kept as json.Number.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// parseData validates every attribute of a write and returns the values
// of the attributes it accepts; the caller holds st.mu.
func (st *esmStore) parseData(t *template, data map[string]wireAttrIn) (map[int][]value, []restError) {
	out := make(map[int][]value, len(data))
	var errs []restError
	for _, code := range slices.Sorted(maps.Keys(data)) {
		i, vals, e := st.parseValues(t, code, data[code].Values)
		if len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		out[i] = vals
	}
	return out, errs
}

// describeErrors joins the entries of meta.errors into one message.
func describeErrors(errs []restError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.String()
	}
	return strings.Join(parts, "; ")
}

func (s *Server) meta(r *http.Request, errs []restError) wireMeta {
	if errs == nil {
		errs = []restError{}
	}
	return wireMeta{Timestamp: s.now().Format(time.RFC3339), URL: baseURL(r) + strings.TrimPrefix(r.URL.Path, ESMPrefix), Errors: errs}
}

// handlePatchCard serves PATCH /dc/{template}/data/{id}: the attributes
// sent replace their values; with any validation error nothing changes (or,
// with Options.PartialWrites, the accepted attributes do) and the errors
// are in meta.errors of a 200.
func (s *Server) handlePatchCard(w http.ResponseWriter, r *http.Request) {
	td, ok := s.template(w, r)
	if !ok {
		return
	}
	var body struct {
		DataCardID string                `json:"dataCardId"`
		Data       map[string]wireAttrIn `json:"data"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, r, APIESM, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	id := r.PathValue("id")
	if body.DataCardID != "" && body.DataCardID != id {
		s.writeError(w, r, APIESM, http.StatusBadRequest, "dataCardId of the body does not match the path")
		return
	}
	st := s.esm
	st.mu.Lock()
	c := st.lookup(td, id)
	var errs []restError
	if c != nil {
		var vals map[int][]value
		vals, errs = st.parseData(td.t, body.Data)
		if len(errs) == 0 || st.partial {
			for i, v := range vals {
				c.setAttr(i, v)
			}
		}
	}
	st.mu.Unlock()
	if c == nil {
		s.writeError(w, r, APIESM, http.StatusNotFound, "data card not found")
		return
	}
	writeJSON(w, http.StatusOK, wireWriteResult{Meta: s.meta(r, errs), DataCard: &wireCardRef{DataCardID: id}})
}

// handleCreateCard serves POST /dc/{template}/data: 201 with the new id, or
// 400 with meta.errors and nothing created.
func (s *Server) handleCreateCard(w http.ResponseWriter, r *http.Request) {
	td, ok := s.template(w, r)
	if !ok {
		return
	}
	var body struct {
		FolderCode string                `json:"folderCode"`
		Data       map[string]wireAttrIn `json:"data"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, r, APIESM, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	st := s.esm
	st.mu.Lock()
	vals, errs := st.parseData(td.t, body.Data)
	if !td.t.hasFolder(body.FolderCode) {
		errs = append(errs, restError{Message: fmt.Sprintf("folder %q is not allowed for template %s", body.FolderCode, td.t.code), Error: "Bad Request"})
	}
	var id string
	if len(errs) == 0 {
		id = strconv.FormatInt(st.create(td, body.FolderCode, vals).id, 10)
	}
	st.mu.Unlock()
	if len(errs) > 0 {
		s.writeError(w, r, APIESM, http.StatusBadRequest, "data card not created: "+describeErrors(errs))
		return
	}
	writeJSON(w, http.StatusCreated, wireWriteResult{Meta: s.meta(r, nil), DataCard: &wireCardRef{DataCardID: id}})
}
