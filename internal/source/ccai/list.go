package ccai

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
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

// ListSessions implements source.Lister for backfill. CCAI Platform lists
// no chats by time, so backfill takes the chats the export storage holds a
// transcript of, written (by the file's modification time) at or after
// since, and the chats whose events this worker received at or after
// since. until bounds both times the same way (zero: no bound): a chat's
// start is not known before it is read. Each chat is passed once.
func (c *Client) ListSessions(ctx context.Context, since, until time.Time, fn func(source.Listed) error) error {
	inWindow := func(at time.Time) bool { return !at.Before(since) && (until.IsZero() || at.Before(until)) }
	seen := map[string]bool{}
	emit := func(id string, at time.Time) error {
		if seen[id] || !inWindow(at) {
			return nil
		}
		seen[id] = true
		return fn(source.Listed{ID: id, UpdatedAt: at})
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("%w: list the transcripts in chat.transcripts_dir: %v", source.ErrUnavailable, err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		if canonical, err := chatID(json.RawMessage(id)); err != nil || canonical != id {
			continue // not a transcript this adapter would read for a chat
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since the directory was read
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(id, info.ModTime()); err != nil {
			return err
		}
	}
	_, events := c.stores()
	if events == nil {
		return nil
	}
	return events.EventsSince(ctx, Namespace, since, emit)
}
