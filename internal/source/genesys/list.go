package genesys

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

const queryPath = "/api/v2/analytics/conversations/details/query"

// queryWindow is the longest interval one details query asks about; a
// longer backfill is asked window by window. The vendor bounds the
// interval and the result set of a synchronous query; a week keeps well
// inside both.
const queryWindow = 7 * 24 * time.Hour

// ListSessions calls fn with every message conversation of the configured
// message types (chat.message_types) that started at or after since and
// before until (zero: now), oldest first. Genesys Cloud lists conversations
// by start time only: "since" is a start time here, not a change time.
// A conversation is passed once per call.
//
// Platform API: POST /api/v2/analytics/conversations/details/query,
// paged by pageNumber, one interval window after the other.
func (c *Client) ListSessions(ctx context.Context, since, until time.Time, fn func(source.Listed) error) error {
	if since.IsZero() {
		return errors.New("genesys: list conversations: a start time is required; the details query asks about intervals")
	}
	if until.IsZero() {
		until = c.now()
	}
	seen := map[string]bool{}
	for from := since; from.Before(until); from = from.Add(queryWindow) {
		to := from.Add(queryWindow)
		if to.After(until) {
			to = until
		}
		err := c.listWindow(ctx, from, to, func(wc wireAnalyticsConversation) error {
			if seen[wc.ConversationID] || outside(wc.ConversationStart, since, until) {
				return nil
			}
			seen[wc.ConversationID] = true
			return fn(listed(wc))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// outside reports whether a start time is known and outside [since, until):
// the vendor answers with every conversation started on a day the interval
// touches.
func outside(start, since, until time.Time) bool {
	return !start.IsZero() && (start.Before(since) || !start.Before(until))
}

func listed(wc wireAnalyticsConversation) source.Listed {
	l := source.Listed{ID: wc.ConversationID, Status: aggregate.StatusActive, StartedAt: wc.ConversationStart}
	if !wc.ConversationEnd.IsZero() {
		l.Status = aggregate.StatusEnded
	}
	return l
}

// listWindow pages through the details query of one interval. It stops
// after the page that completes totalHits, or a short page, and refuses
// paging that would never end: a page repeating the previous one, or more
// than MaxPages.
func (c *Client) listWindow(ctx context.Context, from, to time.Time, fn func(wireAnalyticsConversation) error) error {
	var prev []string
	got := 0
	for page := 1; ; page++ {
		if page > c.maxPages {
			return c.wrap(source.Invalidf("more than %d pages", c.maxPages), "list conversations")
		}
		resp, err := c.queryPage(ctx, from, to, page, c.pageSize)
		if err != nil {
			return c.wrap(err, "list conversations (page %d)", page)
		}
		ids := make([]string, len(resp.Conversations))
		for i, wc := range resp.Conversations {
			ids[i] = wc.ConversationID
		}
		if len(ids) > 0 && slices.Equal(ids, prev) {
			return c.wrap(source.Invalidf("page %d repeats page %d", page, page-1), "list conversations")
		}
		for _, wc := range resp.Conversations {
			if err := fn(wc); err != nil {
				return err
			}
		}
		got += len(ids)
		if len(ids) < c.pageSize || got >= resp.TotalHits {
			return nil
		}
		prev = ids
	}
}

// queryPage asks for one page of web messaging conversations started in
// the days [from, to) touches, in ascending order of start.
func (c *Client) queryPage(ctx context.Context, from, to time.Time, page, size int) (*wireQueryResponse, error) {
	q := wireQuery{
		Interval: from.UTC().Format("2006-01-02T15:04:05.000Z") + "/" + to.UTC().Format("2006-01-02T15:04:05.000Z"),
		Order:    "asc",
		OrderBy:  "conversationStart",
		Paging:   wirePaging{PageSize: size, PageNumber: page},
		SegmentFilters: []wireSegmentFilter{{
			Type:       "and",
			Predicates: []wirePredicate{{Dimension: "mediaType", Value: "message"}},
			Clauses:    []wireClause{{Type: "or", Predicates: c.messageTypePredicates()}},
		}},
	}
	body, _ := json.Marshal(q)
	resp, err := c.call(ctx, "list", "POST", queryPath, body, nil)
	if err != nil {
		return nil, err
	}
	return decodeQueryResponse(resp, c.limits())
}

func (c *Client) messageTypePredicates() []wirePredicate {
	out := make([]wirePredicate, len(c.messageTypes))
	for i, t := range c.messageTypes {
		out[i] = wirePredicate{Dimension: "messageType", Value: t}
	}
	return out
}

// Check gets a token and asks the details query for one conversation of
// the last minute: it proves the client credentials and the analytics
// permission backfill needs, and costs two small requests.
//
// Platform API: POST {login_url}/oauth/token,
// POST /api/v2/analytics/conversations/details/query
func (c *Client) Check(ctx context.Context) error {
	now := c.now()
	_, err := c.queryPage(ctx, now.Add(-time.Minute), now, 1, 1)
	return c.wrap(err, "check")
}
