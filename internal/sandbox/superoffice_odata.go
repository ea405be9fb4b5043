package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// The ChatSession archive (GET /ChatSession?$select=&$filter=&$orderBy=
// &$top=&$skip=) as the fake serves it: slim mode, one row per session
// with PrimaryKey, EntityName "chat" and the selected columns; dates as
// ISO strings in UTC without an offset; the next page announced in
// odata.nextLink as an absolute URL with $skip advanced, absent on the
// last page. It understands the columns and filters the adapter uses.

// soColumns are the archive columns the fake serves.
var soColumns = []string{"chatSessionId", "status", "whenRequested", "whenStarted", "whenEnded", "updatedDate"}

// Page sizes of the archive: without $top, and the most it gives.
const (
	soDefaultTop = 50
	soMaxTop     = 1000
)

// soRow is one session as the archive knows it.
type soRow struct {
	id                                int64
	status                            json.RawMessage
	requested, started, ended, update time.Time
}

// archiveDate renders an archive date: UTC, whole seconds, no offset; ""
// for none.
func archiveDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

func (r soRow) value(col string) any {
	switch col {
	case "chatSessionId":
		return r.id
	case "status":
		return r.status
	case "whenRequested":
		return archiveDate(r.requested)
	case "whenStarted":
		return archiveDate(r.started)
	case "whenEnded":
		return archiveDate(r.ended)
	}
	return archiveDate(r.update)
}

// soQuery is a parsed archive request.
type soQuery struct {
	cols      []string
	since     time.Time // rows updated after it
	desc      bool
	top, skip int
}

func parseSOQuery(q url.Values) (soQuery, error) {
	out := soQuery{top: soDefaultTop, cols: []string{"chatSessionId"}}
	if sel := q.Get("$select"); sel != "" {
		out.cols = nil
		for _, c := range strings.Split(sel, ",") {
			col, ok := soColumn(strings.TrimSpace(c))
			if !ok {
				return out, fmt.Errorf("unknown column %q in $select", c)
			}
			out.cols = append(out.cols, col)
		}
	}
	if f := strings.TrimSpace(q.Get("$filter")); f != "" {
		since, err := parseSOFilter(f)
		if err != nil {
			return out, err
		}
		out.since = since
	}
	switch ob := strings.Join(strings.Fields(q.Get("$orderBy")), " "); strings.ToLower(ob) {
	case "", "chatsessionid", "chatsessionid asc":
	case "chatsessionid desc":
		out.desc = true
	default:
		return out, fmt.Errorf("cannot order by %q", ob)
	}
	for _, p := range []struct {
		key string
		v   *int
	}{{"$top", &out.top}, {"$skip", &out.skip}} {
		if v := q.Get(p.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return out, fmt.Errorf("%s must be a number", p.key)
			}
			*p.v = n
		}
	}
	out.top = min(out.top, soMaxTop)
	return out, nil
}

func soColumn(name string) (string, bool) {
	for _, c := range soColumns {
		if strings.EqualFold(c, name) {
			return c, true
		}
	}
	return "", false
}

// parseSOFilter reads the filters the fake understands:
// updatedDate afterTime 'YYYY-MM-DDTHH:MM:SS' (after that second) and
// updatedDate after 'YYYY-MM-DD' (from the next day on), dates in UTC.
func parseSOFilter(f string) (time.Time, error) {
	fields := strings.Fields(f)
	if len(fields) != 3 || !strings.EqualFold(fields[0], "updatedDate") {
		return time.Time{}, fmt.Errorf("unsupported $filter %q", f)
	}
	lit := strings.Trim(fields[2], "'")
	switch strings.ToLower(fields[1]) {
	case "aftertime":
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", time.RFC3339} {
			if t, err := time.Parse(layout, lit); err == nil {
				return t.UTC().Truncate(time.Second), nil
			}
		}
	case "after":
		if t, err := time.Parse("2006-01-02", lit); err == nil {
			return t.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("unsupported $filter %q", f)
}

// handleList serves the ChatSession archive.
func (p *superOfficePlatform) handleList(s *Server, w http.ResponseWriter, r *http.Request) {
	q, err := parseSOQuery(r.URL.Query())
	if err != nil {
		soError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows := p.rows(s, q.since, q.desc)
	end := min(q.skip+q.top, len(rows))
	page := rows[min(q.skip, end):end]
	values := make([]map[string]any, 0, len(page))
	for _, row := range page {
		v := map[string]any{"PrimaryKey": row.id, "EntityName": "chat"}
		for _, c := range q.cols {
			v[c] = row.value(c)
		}
		values = append(values, v)
	}
	out := map[string]any{"odata.metadata": origin(r) + SuperOfficePrefix + "/archive$metadata", "value": values}
	if end < len(rows) {
		next := r.URL.Query()
		next.Set("$skip", strconv.Itoa(end))
		out["odata.nextLink"] = origin(r) + r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

// rows are the sessions updated after since (zero: all), by
// ChatSessionId, descending when desc.
func (p *superOfficePlatform) rows(s *Server, since time.Time, desc bool) []soRow {
	heads := s.chat.heads(since)
	after := func(t time.Time) bool { return since.IsZero() || t.UTC().Truncate(time.Second).After(since) }
	p.mu.Lock()
	out := make([]soRow, 0, len(heads)+len(p.native))
	for _, h := range heads {
		if !after(h.sess.UpdatedAt) {
			continue
		}
		connected := soConnected(h.sess)
		st, _ := json.Marshal(soStatus(h.sess, h.lastVisitor, connected))
		out = append(out, soRow{id: p.platformIDLocked(h.sess.ID), status: st, requested: h.sess.StartedAt,
			started: connected, ended: whenEnded(h.sess), update: h.sess.UpdatedAt})
	}
	for n, nat := range p.native {
		if after(nat.updated) {
			out = append(out, soRow{id: n, status: nat.status, requested: nat.requested, started: nat.started,
				ended: nat.ended, update: nat.updated})
		}
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b soRow) int {
		if desc {
			return cmp.Compare(b.id, a.id)
		}
		return cmp.Compare(a.id, b.id)
	})
	return out
}

// soHead is a session of the chat store without its transcript, and
// whether the customer wrote last.
type soHead struct {
	sess        aggregate.Session
	lastVisitor bool
}

// heads are the store's sessions updated at or after since, less a second
// for the archive's whole seconds (zero: all).
func (c *chatStore) heads(since time.Time) []soHead {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := 0
	if !since.IsZero() {
		i, _ = c.position(since.Add(-time.Second), "")
	}
	out := make([]soHead, 0, len(c.order)-i)
	for _, cs := range c.order[i:] {
		h := soHead{sess: cs.sess}
		if n := len(cs.msgs); n > 0 {
			h.lastVisitor = c.senders[cs.msgs[n-1].sender].Type == aggregate.SenderVisitor
		}
		out = append(out, h)
	}
	return out
}
