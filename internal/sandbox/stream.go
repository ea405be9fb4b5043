package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// streamChunk is how many cards are rendered under one hold of the lock.
const streamChunk = 256

// handleStreamCards serves GET /dc/{template}/data/stream: every matching
// card in one answer, Efecte's RESTPaginatedDataCardsInfo, in descending id
// like a listing and with no limit. The matching ids are taken under the
// lock; the cards are then rendered a chunk at a time and written without
// it, so that a client that reads slowly, or writes to the cards while it
// reads them, holds nobody up. A card deleted or changed so that it no
// longer matches before its chunk is rendered is left out; meta, which
// counts what was sent, therefore comes after data.
func (s *Server) handleStreamCards(w http.ResponseWriter, r *http.Request) {
	td, ok := s.template(w, r)
	if !ok {
		return
	}
	var lq listQuery
	if err := parseSelection(td.t, r.URL.Query(), &lq); err != nil {
		s.writeError(w, r, APIESM, http.StatusBadRequest, err.Error())
		return
	}
	st := s.esm
	st.mu.RLock()
	ids := st.matching(td, lq.conds)
	st.mu.RUnlock()
	if len(ids) == 0 && s.opts.NotFoundOnEmpty {
		s.writeError(w, r, APIESM, http.StatusNotFound, "no data cards found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"data":[`)
	sent := 0
	for chunk := range slices.Chunk(ids, streamChunk) {
		b, n := st.renderChunk(td, chunk, lq, sent == 0)
		sent += n
		if _, err := bw.Write(b); err != nil {
			return // the client went away
		}
	}
	bw.WriteString(`],"meta":{"count":` + strconv.Itoa(sent) + `}}`)
	_ = bw.Flush()
}

// matching returns the ids of td's cards that satisfy conds, descending.
// The caller holds st.mu.
func (st *esmStore) matching(td *tmplData, conds []cond) []int64 {
	cand := td.candidates(conds)
	out := make([]int64, 0, len(cand))
	for i := len(cand) - 1; i >= 0; i-- {
		if st.cards[cand[i]].matches(conds) {
			out = append(out, cand[i])
		}
	}
	return out
}

// renderChunk renders the cards of ids that still exist and match as
// comma-separated JSON (with a leading comma unless first) and counts them.
func (st *esmStore) renderChunk(td *tmplData, ids []int64, lq listQuery, first bool) ([]byte, int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var buf bytes.Buffer
	n := 0
	for _, id := range ids {
		c := st.cards[id]
		if c == nil || c.td != td || !c.matches(lq.conds) {
			continue
		}
		b, err := json.Marshal(st.render(c, lq))
		if err != nil {
			continue
		}
		if !first || n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
		n++
	}
	return buf.Bytes(), n
}
