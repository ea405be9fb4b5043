package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/state"
)

// errStopped ends discovery when the pass is asked to stop.
var errStopped = errors.New("pass stopped")

// tally counts session outcomes; the workers of a pass share it.
type tally struct {
	mu sync.Mutex
	Summary
	// inARow counts deferred sessions since the last one that went
	// through; at unreachableAfter the pass gives up.
	inARow int
}

// add counts o and reports whether so many sessions in a row were
// deferred that the API must be taken as unreachable.
func (t *tally) add(o outcome) (unreachable bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Sessions++
	switch o {
	case written:
		t.Written++
		t.inARow = 0
	case closed:
		t.Written++
		t.Ended++
		t.inARow = 0
	case unchanged:
		t.Unchanged++
		t.inARow = 0
	case failed:
		t.Failed++
	case deferred:
		t.Failed++
		t.inARow++
	case skipped:
		t.Skipped++
	case dropped:
		t.Dropped++
		t.Sessions--
	}
	return o == deferred && t.inARow >= unreachableAfter
}

// Pass runs one sync pass. Cancelling ctx abandons everything at once;
// closing stop (nil for never) lets the sessions already started finish
// their writes and commits, and starts no more. The error is a
// *FatalError when the tenant could not be synced at all; the Summary
// counts what was done either way.
func (e *Engine) Pass(ctx context.Context, stop <-chan struct{}) (Summary, error) {
	start := e.now()
	e.log.Info("pass starting")
	if e.cfg.Sync.PassTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.Sync.PassTimeout)
		defer cancel()
	}
	if err := e.loginBackedOff(ctx); err != nil {
		return Summary{Tenant: e.cfg.Tenant}, fatal(err)
	}
	runID, err := e.store.StartRun(ctx, "sync")
	if err != nil {
		return Summary{Tenant: e.cfg.Tenant}, fatal(err)
	}
	t := &tally{Summary: Summary{Tenant: e.cfg.Tenant}}
	e.people.beginPass()
	err = e.sync(ctx, stop, t, start)
	t.Duration = e.now().Sub(start)
	e.finishRun(runID, t.Summary, err)
	e.noteLogin(ctx, t.Summary, err)
	return t.Summary, err
}

func (e *Engine) finishRun(id int64, s Summary, err error) {
	r := state.Run{ID: id, Sessions: s.Sessions, Written: s.Written, Unchanged: s.Unchanged,
		Ended: s.Ended, Failed: s.Failed, Skipped: s.Skipped, Interrupted: s.Interrupted}
	if err != nil {
		r.Error = err.Error()
	}
	// The pass's own context may be over; recording it must not be.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ferr := e.store.FinishRun(ctx, r); ferr != nil {
		e.log.Error("record run", "err", ferr)
	}
}

// sync discovers the active cards and syncs each session on up to
// sync.concurrency workers while the listing goes on.
func (e *Engine) sync(ctx context.Context, stop <-chan struct{}, t *tally, start time.Time) error {
	changed, err := e.listChanges(ctx)
	if err != nil {
		return fatal(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Sync.Concurrency)
	seen := newActiveSet()
	err = e.discover(gctx, func(c esm.Card) error {
		if stopped(stop) {
			return errStopped
		}
		id := c.Text(e.cfg.ESM.Attributes.SessionID)
		if id == "" {
			e.log.Warn("card has no session id; skipped", "card", c.ID)
			return nil
		}
		if !e.firstSight(seen, id, c.ID) {
			return nil
		}
		g.Go(func() error {
			o, err := e.syncSession(gctx, id, c.ID, changed)
			return e.counted(t, o, err)
		})
		return nil
	})
	werr := g.Wait()
	if werr != nil {
		return fatal(werr)
	}
	switch {
	case errors.Is(err, errStopped):
		// Unvisited sessions may have changed: keep the old watermark.
		e.log.Warn("pass interrupted before it looked at every session; the next pass goes on")
		t.Interrupted = true
		return nil
	case err != nil:
		return fatal(fmt.Errorf("list active cards: %w", err))
	}
	n, err := e.dropInactive(ctx, seen)
	t.Dropped += n
	if err != nil {
		return fatal(err)
	}
	if n, err := e.store.PruneClosed(ctx, start.Add(-KeepClosed)); err != nil {
		return fatal(err)
	} else if n > 0 {
		e.log.Info("forgot sessions closed long ago", "sessions", n, "closed_before", start.Add(-KeepClosed).UTC().Format(time.DateOnly))
	}
	return fatal(e.saveWatermark(ctx, start))
}

// counted counts a session's outcome and returns the error that ends the
// pass, if any: the session's own fatal error, or an API taken as
// unreachable because too many sessions in a row got no answer.
func (e *Engine) counted(t *tally, o outcome, err error) error {
	if t.add(o) && err == nil {
		last, _ := e.lastDeferred.Load().(deferral)
		if last.noAnswer {
			err = fatal(fmt.Errorf("an API looks unreachable: %d sessions in a row got no answer; the last: %s",
				unreachableAfter, last.msg))
		} else {
			err = fatal(fmt.Errorf("an API keeps failing: %d sessions in a row were answered with an error; the last: %s",
				unreachableAfter, last.msg))
		}
	}
	return err
}

// dropInactive stops polling tracked sessions whose card no longer showed
// up as active: someone closed or deleted it in ESM.
func (e *Engine) dropInactive(ctx context.Context, active *activeSet) (int, error) {
	var gone []state.Session
	err := e.store.OpenSessionIDs(ctx, func(id, card string) error {
		if !active.has(id) {
			gone = append(gone, state.Session{ID: id, CardID: card})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, s := range gone {
		e.log.Warn("card is no longer active in ESM; session dropped from tracking", "session", s.ID, "card", s.CardID)
		if err := e.store.Drop(ctx, s.ID); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
