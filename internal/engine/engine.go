// Package engine runs sync passes for one tenant: it finds the active
// chat-session cards, brings each one's transcript up to date from the chat
// platform, aggregates it, and writes what changed to ESM, committing the
// cursor only after ESM confirmed the write (SPEC §6).
package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/state"
)

// ESM is the part of the ESM client the engine uses.
type ESM interface {
	ListCards(ctx context.Context, template, filter string, attrs []string, fn func(esm.Card) error) error
	StreamCards(ctx context.Context, template, filter string, attrs []string, fn func(esm.Card) error) error
	FindCards(ctx context.Context, template string, key esm.Match) ([]string, error)
	PatchCard(ctx context.Context, template, id string, data map[string][]esm.Value) error
	CreateCard(ctx context.Context, template, folder string, key esm.Match, data map[string][]esm.Value) (string, error)
	FindPersons(ctx context.Context, template, attr, email string) ([]string, error)
}

// Observer watches an engine, for metrics. Its methods must be safe for
// concurrent use and quick.
type Observer interface {
	// PeopleCache reports one Person lookup answered from the state's
	// cache (hit) or by asking ESM.
	PeopleCache(hit bool)
}

type noObserver struct{}

// Progress is told how a backfill advances, for a progress bar or log.
// Its methods must be safe for concurrent use and quick.
type Progress interface {
	// Found reports a session the listing gave that the backfill will
	// handle.
	Found()
	// Done reports a found session handled, whatever the outcome.
	Done()
	// Listed reports that the listing ended: Found is not called again.
	Listed()
}

type noProgress struct{}

func (noProgress) Found()  {}
func (noProgress) Done()   {}
func (noProgress) Listed() {}

func (noObserver) PeopleCache(bool) {}

// Back-off of a failing session: it doubles from BackoffBase per failure
// and stops growing at BackoffMax.
const (
	BackoffBase = time.Minute
	BackoffMax  = 24 * time.Hour
)

// KeepClosed is how long a closed session stays in the state, for status
// and for backfills that would otherwise write it again.
const KeepClosed = 30 * 24 * time.Hour

// Engine syncs one tenant. Its passes must not overlap; the scheduler runs
// them one at a time.
type Engine struct {
	cfg      *config.Config
	src      source.Source
	esm      ESM
	store    *state.Store
	log      *slog.Logger
	now      func() time.Time
	people   *people
	hooks    Hooks
	fullScan bool
	progress Progress
	// credentials is Options.CredentialsStamp.
	credentials string
	// cardGuard serialises finding and creating the card of one session.
	cardGuard keyedMutex
	// lastDeferred is the deferral of the last session an API cut short
	// (a deferral), to say what went wrong when the pass gives up.
	lastDeferred atomic.Value
}

// deferral is a session's attempt an API cut short: the error's text, and
// whether the API did not answer at all.
type deferral struct {
	msg      string
	noAnswer bool
}

// Hooks let tests stop a pass at chosen points.
type Hooks struct {
	// AfterPatch runs once ESM confirmed a write and before the cursor is
	// committed. An error abandons the session uncommitted, as a crash
	// there would, and ends the pass with that error.
	AfterPatch func(sessionID string) error
}

// Options are an Engine's collaborators. Source, ESM and Store are required.
type Options struct {
	// Source is the tenant's chat platform. The engine detects what else
	// it can do (source.ChangeLister, source.Lister).
	Source source.Source
	ESM    ESM
	Store  *state.Store
	Logger *slog.Logger
	Now    func() time.Time
	Hooks  Hooks
	// FullScan syncs every active session every pass, as the ESM task
	// syncworker replaces does; benchmarks use it as the baseline.
	FullScan bool
	// Observer, when set, is told what the engine does, for metrics.
	Observer Observer
	// Progress, when set, is told how a backfill advances.
	Progress Progress
	// CredentialsStamp describes where the ESM credentials come from
	// without holding them (say, the modification times of the tenant and
	// password files). A pass backed off after a refused ESM login runs
	// at once when it changes: someone fixed the password.
	CredentialsStamp string
}

// New returns an Engine for the tenant cfg.
func New(cfg *config.Config, o Options) *Engine {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger.With("tenant", cfg.Tenant)
	return &Engine{
		cfg:      cfg,
		src:      o.Source,
		esm:      o.ESM,
		store:    o.Store,
		log:      log,
		now:      o.Now,
		people:   newPeople(o.ESM, o.Store, cfg.ESM.Person, log, o.Now, cmp.Or[Observer](o.Observer, noObserver{})),
		hooks:    o.Hooks,
		fullScan: o.FullScan,
		progress: cmp.Or[Progress](o.Progress, noProgress{}),

		credentials: o.CredentialsStamp,
	}
}

// Summary is the outcome of one pass, printed as the per-tenant line of
// SPEC §2.
type Summary struct {
	Tenant string
	// Sessions counts the sessions the pass looked at; each one is
	// written, unchanged, failed or skipped (backing off or closed).
	Sessions  int
	Written   int
	Unchanged int
	Failed    int
	Skipped   int
	// Ended counts written sessions that were closed by this write.
	Ended int
	// Dropped counts sessions no longer tracked: card gone or inactive.
	Dropped int
	// Interrupted reports that a signal stopped the pass before it had
	// looked at every session: what it did is committed, the rest waits
	// for the next pass.
	Interrupted bool
	Duration    time.Duration
}

func (s Summary) String() string {
	line := fmt.Sprintf("tenant=%s sessions=%d written=%d unchanged=%d ended=%d failed=%d skipped=%d duration=%s",
		s.Tenant, s.Sessions, s.Written, s.Unchanged, s.Ended, s.Failed, s.Skipped,
		s.Duration.Round(time.Millisecond))
	if s.Interrupted {
		line += " interrupted=true"
	}
	return line
}

// FatalError is an error that ends a pass and means the tenant cannot be
// synced at all until someone acts: a refused login or token, the state
// file failing, an API unreachable while listing.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	var fe *FatalError
	if errors.As(err, &fe) {
		return err
	}
	return &FatalError{Err: err}
}

// aggregateOptions are the aggregation inputs of the tenant at the time now.
func (e *Engine) aggregateOptions(now time.Time) aggregate.Options {
	return aggregate.Options{
		Now:             now,
		Location:        e.cfg.Location,
		MaxActiveAge:    e.cfg.Sync.MaxActiveAge,
		ChatLogMaxChars: e.cfg.Sync.ChatLogMaxChars,
	}
}

// backoff is how long a session that failed failures times in a row waits.
func backoff(failures int) time.Duration {
	d := BackoffBase
	for i := 1; i < failures && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}
