package generic

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

// Messages returns the messages of session id that follow cursor (the
// decimal seq of the last message already had; "" is the start), sorted by
// seq, following pages while the platform says has_more, and the cursor
// after them. A message repeated at a page edge is returned once. It fails
// with an error matching source.ErrNotFound when the platform does not know
// the session.
//
// Chat platform API: GET /sessions/{id}/messages?after=&limit=
func (c *Client) Messages(ctx context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", c.wrap(err, "fetch messages of %s", nameID(id))
	}
	msgs, err := c.messages(ctx, id, after)
	if err != nil {
		return nil, "", c.wrap(err, "fetch messages of %s", nameID(id))
	}
	if n := len(msgs); n > 0 {
		after = msgs[n-1].Seq
	}
	return msgs, formatCursor(after), nil
}

// parseCursor reads a cursor Messages handed out.
func parseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	seq, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || seq < 0 {
		return 0, fmt.Errorf("cursor %q is not a seq", cursor)
	}
	return seq, nil
}

func formatCursor(seq int64) string {
	if seq == 0 {
		return ""
	}
	return strconv.FormatInt(seq, 10)
}

func (c *Client) messages(ctx context.Context, id string, after int64) ([]aggregate.Message, error) {
	if err := checkID("session id", id); err != nil {
		return nil, err
	}
	var all []aggregate.Message
	last := after
	for page := 1; ; page++ {
		if page > c.maxPages {
			return nil, source.Invalidf("more than %d pages", c.maxPages)
		}
		msgs, more, err := c.messagesPage(ctx, id, last)
		if err != nil && page > 1 {
			return nil, fmt.Errorf("page after seq %d: %w", last, err)
		}
		if err != nil {
			return nil, err
		}
		fresh := dropUpTo(msgs, last)
		if more && len(fresh) == 0 {
			return nil, source.Invalidf("has_more after a page with no message past seq %d", last)
		}
		all = append(all, fresh...)
		if len(fresh) > 0 {
			last = fresh[len(fresh)-1].Seq
		}
		if !more {
			return all, nil
		}
	}
}

// dropUpTo returns the messages of the sorted page msgs with a seq greater
// than last: those at or below it are repeats from an earlier page.
func dropUpTo(msgs []aggregate.Message, last int64) []aggregate.Message {
	for i, m := range msgs {
		if m.Seq > last {
			return msgs[i:]
		}
	}
	return nil
}

func (c *Client) messagesPage(ctx context.Context, id string, after int64) ([]aggregate.Message, bool, error) {
	q := url.Values{
		"after": {strconv.FormatInt(after, 10)},
		"limit": {strconv.Itoa(c.pageSize)},
	}
	body, err := c.get(ctx, "messages", "/sessions/"+url.PathEscape(id)+"/messages", q, ErrSessionNotFound)
	if err != nil {
		return nil, false, err
	}
	return decodeMessagesPage(body, c.limits())
}
