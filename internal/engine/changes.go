package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/state"
)

// watermarkKey is the state's meta key holding the start of the last pass
// that completed.
const watermarkKey = "watermark"

// WatermarkOverlap is how far before the last complete pass's start a pass
// asks the platform for changes: it covers clock skew between this machine
// and the platform, and sessions changed while that pass ran. It costs only
// listing pages: a session whose updated_at equals the one last written is
// not fetched again.
const WatermarkOverlap = 15 * time.Minute

// changes are the sessions the platform reports as updated since the last
// complete pass, with their updated_at. A nil *changes means "unknown":
// every session is synced.
type changes struct {
	updated map[string]time.Time
}

// listChanges asks the platform which sessions changed since the
// watermark. It returns nil when there is no watermark yet (a first pass
// syncs everything anyway) or when skipping is off.
func (e *Engine) listChanges(ctx context.Context) (*changes, error) {
	if e.fullScan {
		return nil, nil
	}
	raw, err := e.store.Meta(ctx, watermarkKey)
	if err != nil || raw == "" {
		return nil, err
	}
	mark, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		e.log.Warn("unreadable watermark; syncing every session", "watermark", raw)
		return nil, nil
	}
	c := &changes{updated: map[string]time.Time{}}
	err = e.chat.ListSessions(ctx, mark.Add(-WatermarkOverlap), func(s aggregate.Session) error {
		c.updated[s.ID] = s.UpdatedAt
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions updated since %s: %w", mark.Add(-WatermarkOverlap).Format(time.RFC3339), err)
	}
	return c, nil
}

// due reports whether a tracked session must be synced this pass.
func (e *Engine) due(st state.Session, c *changes, now time.Time) bool {
	switch {
	case c == nil, len(st.Written) == 0, st.Pending, st.Failures > 0:
		return true
	case e.cfg.Sync.MaxActiveAge > 0 && !st.StartedAt.IsZero() && now.Sub(st.StartedAt) > e.cfg.Sync.MaxActiveAge:
		return true // expired: write it closed
	}
	updated, listed := c.updated[st.ID]
	return listed && !updated.Equal(st.UpdatedAt)
}

// saveWatermark records start as the start of the last complete pass.
func (e *Engine) saveWatermark(ctx context.Context, start time.Time) error {
	return e.store.SetMeta(ctx, watermarkKey, start.UTC().Format(time.RFC3339Nano))
}
