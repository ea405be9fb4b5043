package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/source"
	"golang.org/x/sync/errgroup"
)

// Backfill syncs every session the chat platform updated since since and
// that started before until (zero for no bound), ended ones included. A
// session with no card gets one in esm.folder; running it twice creates
// nothing twice (SPEC §6).
func (e *Engine) Backfill(ctx context.Context, stop <-chan struct{}, since, until time.Time) (Summary, error) {
	start := e.now()
	lister, ok := e.src.(source.Lister)
	if !ok {
		return Summary{Tenant: e.cfg.Tenant}, fatal(fmt.Errorf("backfill: chat.platform %s cannot list sessions: %w",
			e.cfg.Chat.Platform, source.ErrNotSupported))
	}
	e.log.Info("backfill starting", "since", since.Format(time.RFC3339), "until", formatBound(until))
	runID, err := e.store.StartRun(ctx, "backfill")
	if err != nil {
		return Summary{Tenant: e.cfg.Tenant}, fatal(err)
	}
	t := &tally{Summary: Summary{Tenant: e.cfg.Tenant}}
	e.people.beginPass()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Sync.Concurrency)
	// A session updated while the listing pages on shows up again on a
	// later page; it is handled once.
	seen := map[string]bool{}
	err = lister.ListSessions(gctx, since, until, func(s source.Listed) error {
		if stopped(stop) {
			return errStopped
		}
		if seen[s.ID] || !until.IsZero() && !s.StartedAt.Before(until) {
			return nil
		}
		seen[s.ID] = true
		e.progress.Found()
		g.Go(func() error {
			defer e.progress.Done()
			o, err := e.backfillSession(gctx, s.ID)
			return e.counted(t, o, err)
		})
		return nil
	})
	e.progress.Listed()
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

// formatBound is a backfill's upper bound for the log: "none" when zero.
func formatBound(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.Format(time.RFC3339)
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
// the chatbot's createChatSession would when there is none. The look-up
// and the create happen under the session's guard, so that two callers
// never both find nothing and both create.
func (e *Engine) findOrCreateCard(ctx context.Context, id string) (string, error) {
	unlock := e.cardGuard.lock(id)
	defer unlock()
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

// keyedMutex is a set of mutexes by key, each existing while it is held or
// waited for.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

// lock takes the mutex of key and returns its release.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
