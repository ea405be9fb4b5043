package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/esm"
	"golang.org/x/sync/errgroup"
)

// Backfill syncs every session the chat platform updated since since and
// that started before until (zero for no bound), ended ones included. A
// session with no card gets one in esm.folder; running it twice creates
// nothing twice (SPEC §6).
func (e *Engine) Backfill(ctx context.Context, stop <-chan struct{}, since, until time.Time) (Summary, error) {
	start := e.now()
	runID, err := e.store.StartRun(ctx, "backfill")
	if err != nil {
		return Summary{Tenant: e.cfg.Tenant}, fatal(err)
	}
	t := &tally{Summary: Summary{Tenant: e.cfg.Tenant}}
	e.people.beginPass()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Sync.Concurrency)
	err = e.chat.ListSessions(gctx, since, func(s aggregate.Session) error {
		if stopped(stop) {
			return errStopped
		}
		if !until.IsZero() && !s.StartedAt.Before(until) {
			return nil
		}
		g.Go(func() error {
			o, err := e.backfillSession(gctx, s.ID)
			return e.counted(t, o, err)
		})
		return nil
	})
	werr := g.Wait()
	switch {
	case werr != nil:
		err = fatal(werr)
	case errors.Is(err, errStopped):
		e.log.Warn("backfill interrupted before it listed every session; run it again to finish")
		t.Interrupted = true
		err = nil
	case err != nil:
		err = fatal(fmt.Errorf("list chat sessions: %w", err))
	}
	t.Duration = e.now().Sub(start)
	e.finishRun(runID, t.Summary, err)
	return t.Summary, err
}

// backfillSession finds or creates the card of session id, then syncs it.
func (e *Engine) backfillSession(ctx context.Context, id string) (outcome, error) {
	st, ok, err := e.store.Session(ctx, id)
	if err != nil {
		return failed, fatal(err)
	}
	if ok && st.Done {
		return skipped, nil
	}
	cardID, err := e.findOrCreateCard(ctx, id)
	if err != nil {
		if errors.Is(err, esm.ErrLoginRefused) {
			return failed, fatal(err)
		}
		e.log.Warn("backfill: no card for session", "session", id, "err", err)
		return failed, nil
	}
	return e.syncSession(ctx, id, cardID, nil)
}

// findOrCreateCard returns the card holding session id, creating it the way
// the chatbot's createChatSession would when there is none.
func (e *Engine) findOrCreateCard(ctx context.Context, id string) (string, error) {
	a := e.cfg.ESM.Attributes
	key := esm.Match{Attribute: a.SessionID, Value: id}
	ids, err := e.esm.FindCards(ctx, e.cfg.ESM.Template, key)
	if err != nil {
		return "", err
	}
	if len(ids) > 0 {
		if len(ids) > 1 {
			e.log.Warn("several cards hold one session; writing the newest", "session", id, "cards", ids)
		}
		return ids[0], nil
	}
	active := e.cfg.ESM.ActiveValues.Active
	data := map[string][]esm.Value{
		a.SessionID: {esm.String(id)},
		a.Active:    {esm.Static(active.Value, active.Code)},
	}
	card, err := e.esm.CreateCard(ctx, e.cfg.ESM.Template, e.cfg.ESM.Folder, key, data)
	if err != nil {
		return "", err
	}
	e.log.Info("backfill: created card", "session", id, "card", card)
	return card, nil
}
