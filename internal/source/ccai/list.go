package ccai

import (
	"context"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// ListChanges implements source.ChangeLister: the chats that received an
// event at or after since, each with the time its latest event was
// received (the UpdatedAt Session gives). Without a receiver nothing is
// received, and the listing would prove nothing: it is then
// source.ErrNotSupported, and every tracked chat is synced.
func (c *Client) ListChanges(ctx context.Context, since time.Time, fn func(source.Listed) error) error {
	if !c.live.Load() {
		return fmt.Errorf("%w: no events are received for this tenant", source.ErrNotSupported)
	}
	_, events := c.stores()
	return events.EventsSince(ctx, Namespace, since, func(id string, last time.Time) error {
		return fn(source.Listed{ID: id, UpdatedAt: last})
	})
}
