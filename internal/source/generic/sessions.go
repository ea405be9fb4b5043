package generic

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// ListChanges calls fn with every session updated at or after since, page
// by page, so that the caller can start work before the listing ends. A zero
// since lists every session. A session repeated at a page edge is passed
// once. An error from fn stops the listing and is returned as is.
//
// Chat platform API: GET /sessions?updated_since=&limit=&cursor=
func (c *Client) ListChanges(ctx context.Context, since time.Time, fn func(source.Listed) error) error {
	return c.listSessions(ctx, since, func(s aggregate.Session) error { return fn(listed(s)) })
}

// ListSessions is ListChanges keeping the sessions started before until
// (zero: no bound), for backfill.
//
// Chat platform API: GET /sessions?updated_since=&limit=&cursor=
func (c *Client) ListSessions(ctx context.Context, since, until time.Time, fn func(source.Listed) error) error {
	return c.listSessions(ctx, since, func(s aggregate.Session) error {
		if !until.IsZero() && !s.StartedAt.Before(until) {
			return nil
		}
		return fn(listed(s))
	})
}

func listed(s aggregate.Session) source.Listed {
	return source.Listed{ID: s.ID, Status: s.Status, StartedAt: s.StartedAt, UpdatedAt: s.UpdatedAt}
}

// Check asks for the first page of sessions updated from now on: it costs
// one small request and proves the token is accepted.
//
// Chat platform API: GET /sessions?updated_since=&limit=
func (c *Client) Check(ctx context.Context) error {
	_, _, err := c.ListSessionsPage(ctx, c.now(), "")
	return err
}

// listSessions calls fn with the heads of the sessions updated at or after
// since: ID, Status, StartedAt, EndedAt and UpdatedAt.
func (c *Client) listSessions(ctx context.Context, since time.Time, fn func(aggregate.Session) error) error {
	var (
		cursor  string
		cursors = map[string]bool{}
		prevIDs map[string]bool
	)
	for page := 1; ; page++ {
		if page > c.maxPages {
			return c.wrap(source.Invalidf("more than %d pages", c.maxPages), "list sessions")
		}
		sessions, next, err := c.listPage(ctx, since, cursor)
		if err != nil {
			return c.wrap(err, "list sessions (page %d)", page)
		}
		if err := checkNextCursor(next, len(sessions), cursors); err != nil {
			return c.wrap(err, "list sessions (page %d)", page)
		}
		ids := make(map[string]bool, len(sessions))
		for _, s := range sessions {
			if prevIDs[s.ID] || ids[s.ID] {
				continue
			}
			ids[s.ID] = true
			if err := fn(s); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		prevIDs, cursor = ids, next
		cursors[next] = true
	}
}

// checkNextCursor refuses a cursor that would make the listing loop: one
// already followed, or one announced after an empty page.
func checkNextCursor(next string, n int, followed map[string]bool) error {
	switch {
	case next == "":
		return nil
	case n == 0:
		return source.Invalidf("next_cursor after an empty page")
	case followed[next]:
		return source.Invalidf("next_cursor repeats an earlier cursor")
	}
	return nil
}

// ListSessionsPage returns one page of the session listing and the cursor of
// the next page, "" after the last. Cursor "" asks for the first page. Like
// ListSessions it fills in only the sessions' heads; unlike it, it leaves
// loop detection and de-duplication to the caller.
//
// Chat platform API: GET /sessions?updated_since=&limit=&cursor=
func (c *Client) ListSessionsPage(ctx context.Context, since time.Time, cursor string) ([]aggregate.Session, string, error) {
	sessions, next, err := c.listPage(ctx, since, cursor)
	if err != nil {
		return nil, "", c.wrap(err, "list sessions")
	}
	return sessions, next, nil
}

func (c *Client) listPage(ctx context.Context, since time.Time, cursor string) ([]aggregate.Session, string, error) {
	q := url.Values{"limit": {strconv.Itoa(c.pageSize)}}
	if !since.IsZero() {
		q.Set("updated_since", since.UTC().Format(time.RFC3339Nano))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	body, err := c.get(ctx, "sessions", "/sessions", q, nil)
	if err != nil {
		return nil, "", err
	}
	return decodeSessionPage(body, c.limits())
}

// Session returns the session with the given id, its customer and live
// chats included. It fails with ErrSessionNotFound when the platform does
// not know it.
//
// Chat platform API: GET /sessions/{id}
func (c *Client) Session(ctx context.Context, id string) (aggregate.Session, error) {
	s, err := c.session(ctx, id)
	if err != nil {
		return aggregate.Session{}, c.wrap(err, "fetch session %s", nameID(id))
	}
	return s, nil
}

func (c *Client) session(ctx context.Context, id string) (aggregate.Session, error) {
	if err := checkID("session id", id); err != nil {
		return aggregate.Session{}, err
	}
	body, err := c.get(ctx, "session", "/sessions/"+url.PathEscape(id), nil, ErrSessionNotFound)
	if err != nil {
		return aggregate.Session{}, err
	}
	s, err := decodeSession(body, c.limits())
	if err != nil {
		return aggregate.Session{}, err
	}
	if s.ID != id {
		return aggregate.Session{}, source.Invalidf("answer is about session %s", quoteID(s.ID))
	}
	return s, nil
}
