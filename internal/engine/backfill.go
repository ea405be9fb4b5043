package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// The listing runs ahead of the writes, on its own: were it to hand
	// each session straight to a worker, it would wait at the
	// concurrency limit, and the sessions found so far (what progress and
	// its ETA measure against) would only ever be a few more than those
	// handled.
	q := newBackfillQueue()
	lctx, cancelList := context.WithCancel(gctx)
	defer cancelList()
	go func() { q.finish(e.listBackfill(lctx, lister, stop, since, until, q)) }()
	for {
		id, ok := q.next(gctx, stop)
		if !ok {
			break
		}
		g.Go(func() error {
			// g.Go waited for a free worker: stop may have come meanwhile.
			if stopped(stop) {
				q.unstarted.Add(1)
				return nil
			}
			defer e.progress.Done()
			o, err := e.backfillSession(gctx, id)
			return e.counted(t, o, err)
		})
	}
	if stopped(stop) {
		cancelList() // a page request in flight need not finish
	}
	<-q.done
	err = q.err
	werr := g.Wait()
	if stopped(stop) && (q.left() > 0 || err != nil && gctx.Err() == nil) {
		err = errStopped
	}
	switch {
	case werr != nil:
		err = fatal(werr)
	case errors.Is(err, errStopped):
		e.log.Warn("backfill interrupted before it handled every session; run it again to finish", "left", q.left())
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
// listBackfill lists the sessions a backfill handles into q: those
// updated since since that started before until, each once.
func (e *Engine) listBackfill(ctx context.Context, lister source.Lister, stop <-chan struct{}, since, until time.Time, q *backfillQueue) error {
	defer e.progress.Listed()
	// A session updated while the listing pages on shows up again on a
	// later page; it is handled once.
	seen := map[string]bool{}
	return lister.ListSessions(ctx, since, until, func(s source.Listed) error {
		if stopped(stop) {
			return errStopped
		}
		if seen[s.ID] || !until.IsZero() && !s.StartedAt.Before(until) {
			return nil
		}
		seen[s.ID] = true
		e.progress.Found()
		q.push(s.ID)
		return nil
	})
}

// backfillQueue holds the sessions the listing found that no worker has
// taken yet: ids only, so that a listing far ahead costs little.
type backfillQueue struct {
	mu    sync.Mutex
	ids   []string
	ended bool
	// unstarted counts sessions taken but not started: stop came first.
	unstarted atomic.Int64
	// err is the listing's error, once done is closed.
	err  error
	wake chan struct{}
	done chan struct{}
}

func newBackfillQueue() *backfillQueue {
	return &backfillQueue{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (q *backfillQueue) push(id string) {
	q.mu.Lock()
	q.ids = append(q.ids, id)
	q.mu.Unlock()
	q.signal()
}

// finish records the end of the listing and its error.
func (q *backfillQueue) finish(err error) {
	q.mu.Lock()
	q.ended, q.err = true, err
	q.mu.Unlock()
	close(q.done)
	q.signal()
}

func (q *backfillQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next returns the next session to handle, waiting for the listing; false
// once the listing ended and every session was taken, or when stop is
// closed or ctx ends.
func (q *backfillQueue) next(ctx context.Context, stop <-chan struct{}) (string, bool) {
	for {
		if stopped(stop) || ctx.Err() != nil {
			return "", false
		}
		q.mu.Lock()
		if len(q.ids) > 0 {
			id := q.ids[0]
			q.ids = q.ids[1:]
			q.mu.Unlock()
			return id, true
		}
		ended := q.ended
		q.mu.Unlock()
		if ended {
			return "", false
		}
		select {
		case <-q.wake:
		case <-stop:
		case <-ctx.Done():
		}
	}
}

// left is how many found sessions were not handled.
func (q *backfillQueue) left() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ids) + int(q.unstarted.Load())
}

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
