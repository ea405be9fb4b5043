package main

import (
	"context"
	"errors"
	"time"

	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/metrics"
	"github.com/syncworker/syncworker/internal/state"
)

// transportObserver feeds one tenant's API traffic to the metrics.
type transportObserver struct {
	m           *metrics.Metrics
	tenant, api string
}

func (o transportObserver) Attempt(endpoint string, code int, d time.Duration, retry bool) {
	o.m.Attempt(o.tenant, o.api, endpoint, code, d, retry)
}

func (o transportObserver) RateWait(d time.Duration) { o.m.RateWait(o.tenant, o.api, d) }

// engineObserver feeds one tenant's engine events to the metrics.
type engineObserver struct {
	m      *metrics.Metrics
	tenant string
}

func (o engineObserver) PeopleCache(hit bool) { o.m.PeopleCache(o.tenant, hit) }

// passResult names a pass's outcome for the metrics.
func passResult(s engine.Summary, err error) string {
	var fe *engine.FatalError
	switch {
	case errors.As(err, &fe), err != nil:
		return "fatal"
	case s.Interrupted:
		return "interrupted"
	case s.Failed > 0:
		return "partial"
	}
	return "ok"
}

// recordPass puts a finished pass of t, and its tracked sessions, into the
// metrics, when there are metrics.
func (p *Program) recordPass(ctx context.Context, t *tenant, kind string, s engine.Summary, err error) {
	if p.metrics == nil {
		return
	}
	p.metrics.ObservePass(metrics.Pass{Tenant: t.cfg.Tenant, Kind: kind, Result: passResult(s, err),
		Duration: s.Duration, Finished: p.Now(), Written: s.Written, Unchanged: s.Unchanged, Failed: s.Failed,
		Skipped: s.Skipped, Ended: s.Ended})
	if passResult(s, err) == "fatal" {
		// This process may never have seen a good pass; the state has.
		if ok, lerr := t.store.LastSuccess(ctx); lerr == nil && !ok.IsZero() {
			p.metrics.LastSuccess(t.cfg.Tenant, ok)
		}
	}
	n, cerr := t.store.Counts(ctx)
	if cerr != nil {
		return
	}
	p.metrics.Tracked(t.cfg.Tenant, n.Active, n.BackingOff, n.Failing, n.Ended)
}

// recordStateProblem marks a tenant whose state cannot be opened in the
// metrics: held by another process (a scale-out mistake) or unusable.
func (p *Program) recordStateProblem(tenant string, err error) {
	if p.metrics == nil {
		return
	}
	locked := errors.Is(err, state.ErrLocked)
	p.metrics.StateUnavailable(tenant, "locked", locked)
	p.metrics.StateUnavailable(tenant, "unusable", err != nil && !locked)
	if locked {
		p.metrics.StateLocked(tenant)
	}
}
