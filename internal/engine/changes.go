package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/state"
)

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
// watermark. It returns nil when the platform has no change listing, when
// there is no watermark yet (a first pass syncs everything anyway) or when
// skipping is off.
func (e *Engine) listChanges(ctx context.Context) (*changes, error) {
	lister, ok := e.src.(source.ChangeLister)
	if e.fullScan || !ok {
		return nil, nil
	}
	mark, err := e.store.Watermark(ctx, e.cfg.Chat.Platform)
	if err != nil {
		e.log.Warn("syncing every session", "err", err)
		return nil, nil
	}
	if mark.IsZero() {
		return nil, nil
	}
	c := &changes{updated: map[string]time.Time{}}
	err = lister.ListChanges(ctx, mark.Add(-WatermarkOverlap), func(s source.Listed) error {
		c.updated[s.ID] = s.UpdatedAt
		return nil
	})
	if errors.Is(err, source.ErrNotSupported) {
		// The platform cannot tell right now (CCAI Platform without an
		// event receiver): every session is synced.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sessions updated since %s: %w", mark.Add(-WatermarkOverlap).Format(time.RFC3339), err)
	}
	return c, nil
}

// due reports whether a tracked session must be synced this pass. A
// session is skipped only when the change listing proves it unchanged since
// the fetch that stored it (SPEC §6).
func (e *Engine) due(st state.Session, c *changes, now time.Time) bool {
	switch {
	case c == nil, len(st.Written) == 0, st.Pending, st.Failures > 0, st.FetchedAt.IsZero():
		return true
	case !st.ReopenUntil.IsZero():
		return true // ended but reopenable: a reopen, or the grace running out
	case e.cfg.Sync.MaxActiveAge > 0 && !st.StartedAt.IsZero() && now.Sub(st.StartedAt) > e.cfg.Sync.MaxActiveAge:
		return true // expired: write it closed
	case now.Sub(st.FetchedAt) >= refreshAge(st.ID, e.cfg.Sync.RefreshAfter):
		return true // a change the listing does not show (a hand-over without a message)
	}
	updated, listed := c.updated[st.ID]
	if !listed {
		return false
	}
	// An equal updated_at proves nothing when it is as new as the fetch:
	// the platform stamps coarsely (whole seconds or worse), so a message
	// that came in just after the fetch may carry the same stamp.
	return !updated.Equal(st.UpdatedAt) || st.UpdatedAt.After(st.FetchedAt.Add(-e.cfg.Sync.ChangeMargin))
}

// refreshAge is how long after its last fetch session id is fetched again
// whatever the listing says: between half of refreshAfter and all of it,
// fixed per session, so that sessions first fetched in one pass come due
// spread over several passes instead of all at once.
func refreshAge(id string, refreshAfter time.Duration) time.Duration {
	sum := sha256.Sum256([]byte(id)) // well mixed, unlike FNV's high bits
	u := float64(binary.BigEndian.Uint64(sum[:8])) / (1 << 64)
	half := refreshAfter / 2
	return half + time.Duration(float64(refreshAfter-half)*u)
}

// saveWatermark records start as the start of the last complete pass.
func (e *Engine) saveWatermark(ctx context.Context, start time.Time) error {
	if _, ok := e.src.(source.ChangeLister); !ok {
		return nil
	}
	return e.store.SetWatermark(ctx, e.cfg.Chat.Platform, start)
}
