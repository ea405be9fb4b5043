package superoffice

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// listColumns are the archive columns a listing selects.
const listColumns = "chatSessionId,status,whenRequested,whenEnded,updatedDate"

// ListChanges calls fn with every session whose updatedDate is at or after
// since (zero: every session), page by page, each once. An error from fn
// stops the listing and is returned as is.
//
// WebAPI: GET /ChatSession?$select=…&$filter=updatedDate afterTime '…'
// &$orderBy=chatSessionId&$top=&$skip=, following odata.nextLink.
func (c *Client) ListChanges(ctx context.Context, since time.Time, fn func(source.Listed) error) error {
	return c.list(ctx, since, func(l listed) error { return fn(c.listedOf(l)) })
}

// ListSessions is ListChanges keeping the sessions requested before until
// (zero: no bound), for backfill.
//
// WebAPI: as ListChanges.
func (c *Client) ListSessions(ctx context.Context, since, until time.Time, fn func(source.Listed) error) error {
	return c.list(ctx, since, func(l listed) error {
		if !until.IsZero() && !l.whenRequested.IsZero() && !l.whenRequested.Before(until) {
			return nil
		}
		return fn(c.listedOf(l))
	})
}

// Check reads the newest session from the archive, then that session and
// its messages: it proves the credentials are accepted and that the user
// may read chat sessions, and changes nothing.
//
// WebAPI: GET /ChatSession?$select=chatSessionId&$orderBy=chatSessionId desc&$top=1,
// GET /ChatSession/{id}, GET /ChatSession/{id}/Messages.
func (c *Client) Check(ctx context.Context) error {
	q := url.Values{"$select": {"chatSessionId"}, "$orderBy": {"chatSessionId desc"}, "$top": {"1"}}
	body, err := c.get(ctx, "sessions", c.endpoint("/ChatSession", q), nil)
	if err != nil {
		return c.wrap(err, "list chat sessions")
	}
	rows, _, err := decodeListPage(body)
	if err != nil || len(rows) == 0 {
		return c.wrap(err, "list chat sessions")
	}
	n := rows[0].id
	if _, err := c.fetchSession(ctx, n); err != nil {
		return c.wrap(err, "read chat session %d", n)
	}
	if _, err := c.fetchMessages(ctx, n, 0); err != nil {
		return c.wrap(err, "read the messages of chat session %d", n)
	}
	return nil
}

// listedOf is an archive row as the engine sees it. A status that is not
// an enum name or number (a display text in another language, say) is
// left active: the session is fetched, and its entity says.
func (c *Client) listedOf(l listed) source.Listed {
	out := source.Listed{ID: strconv.FormatInt(l.id, 10), Status: aggregate.StatusActive,
		StartedAt: l.whenRequested, UpdatedAt: l.updated}
	if s, ok := l.status.lookup(statusNames); ok && statusEnded(s) {
		out.Status = aggregate.StatusEnded
	}
	return out
}

// afterTimeLiteral is the literal of a $filter that keeps the rows updated
// at or after since. afterTime compares with whole seconds and excludes
// the literal itself, so the literal is the second before since's.
func afterTimeLiteral(since time.Time) string {
	return since.UTC().Truncate(time.Second).Add(-time.Second).Format("2006-01-02T15:04:05")
}

// list calls fn with every archive row updated at or after since.
func (c *Client) list(ctx context.Context, since time.Time, fn func(listed) error) error {
	q := url.Values{"$select": {listColumns}, "$orderBy": {"chatSessionId"}, "$top": {strconv.Itoa(c.pageSize)}}
	if !since.IsZero() {
		q.Set("$filter", "updatedDate afterTime '"+afterTimeLiteral(since)+"'")
	}
	next := c.endpoint("/ChatSession", q)
	var (
		followed = map[string]bool{next: true}
		skip     int
		prevIDs  map[int64]bool
	)
	for page := 1; next != ""; page++ {
		if page > c.maxPages {
			return c.wrap(source.Invalidf("more than %d pages", c.maxPages), "list chat sessions")
		}
		body, err := c.get(ctx, "sessions", next, nil)
		if err != nil {
			return c.wrap(err, "list SuperOffice chat sessions (page %d)", page)
		}
		rows, link, err := decodeListPage(body)
		if err != nil {
			return c.wrap(err, "list SuperOffice chat sessions (page %d)", page)
		}
		ids := make(map[int64]bool, len(rows))
		fresh := 0
		for _, r := range rows {
			if prevIDs[r.id] || ids[r.id] {
				continue
			}
			ids[r.id] = true
			fresh++
			c.remember(r)
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) > 0 && fresh == 0 {
			return c.wrap(source.Invalidf("page %d repeats the rows of the page before it", page), "list chat sessions")
		}
		skip += len(rows)
		if next, err = c.nextPage(link, len(rows), skip, q, followed); err != nil {
			return c.wrap(err, "list SuperOffice chat sessions (page %d)", page)
		}
		prevIDs = ids
	}
	return nil
}

// nextPage is the URL of the page after one of n rows: its odata.nextLink
// when SuperOffice gave one, which must stay on the tenant's WebAPI (the
// credentials go with it), be new, and follow a page with rows. Without a
// link, a full page is followed by the next $skip, so that a server that
// caps pages without announcing more loses nothing; a shorter page is the
// last.
func (c *Client) nextPage(link string, n, skip int, q url.Values, followed map[string]bool) (string, error) {
	var next string
	switch {
	case link != "":
		u, err := c.base.Parse(link)
		if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host || u.Path != c.base.Path+"/ChatSession" {
			return "", source.Invalidf("odata.nextLink %s is not a ChatSession listing of this tenant's WebAPI", quoteID(link))
		}
		if n == 0 {
			return "", source.Invalidf("odata.nextLink after a page with no row")
		}
		next = u.String()
	case n >= c.pageSize:
		q.Set("$skip", strconv.Itoa(skip))
		next = c.endpoint("/ChatSession", q)
	default:
		return "", nil
	}
	if followed[next] {
		return "", source.Invalidf("odata.nextLink repeats an earlier page")
	}
	followed[next] = true
	return next, nil
}

// remember keeps row l's updatedDate for Session.
func (c *Client) remember(l listed) {
	c.listedMu.Lock()
	defer c.listedMu.Unlock()
	if len(c.listed) > 200000 {
		clear(c.listed)
	}
	if l.updated.IsZero() {
		delete(c.listed, l.id)
		return
	}
	c.listed[l.id] = l.updated
}
