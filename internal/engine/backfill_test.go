package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// progressRecord is an engine.Progress that counts; listed is closed
// when the listing ends.
type progressRecord struct {
	found, done atomic.Int64
	listed      chan struct{}
}

func (p *progressRecord) Found()  { p.found.Add(1) }
func (p *progressRecord) Done()   { p.done.Add(1) }
func (p *progressRecord) Listed() { close(p.listed) }

// noCardSessions gives h n sessions without cards, for a backfill.
func noCardSessions(t *testing.T, h *harness, n int) {
	t.Helper()
	if _, err := h.sb.Generate(sandbox.GenOptions{Sessions: n, MessagesPerSession: 4, Agents: 2, Seed: 5,
		Start: epoch.Add(-48 * time.Hour), Span: 24 * time.Hour, NoCards: true}); err != nil {
		t.Fatal(err)
	}
}

// TestBackfill_ListingRunsAheadOfWrites: the listing does not wait for the
// writes, so that progress knows how many sessions there are (and an ETA)
// long before the last page: here it ends while the first write still
// waits, with one worker.
func TestBackfill_ListingRunsAheadOfWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  concurrency: 1\n")
	noCardSessions(t, h, 12)
	rec := &progressRecord{listed: make(chan struct{})}
	var first atomic.Bool
	h.progress = rec
	h.hooks.AfterPatch = func(string) error {
		if first.Swap(true) {
			return nil
		}
		select {
		case <-rec.listed:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("the listing did not end while the first write waited")
		}
	}
	h.reopen()
	s, err := h.eng.Backfill(context.Background(), nil, epoch.Add(-72*time.Hour), time.Time{})
	if err != nil || s.Written != 12 || s.Interrupted {
		t.Fatalf("backfill: %s, %v", s, err)
	}
	if rec.found.Load() != 12 || rec.done.Load() != 12 {
		t.Errorf("progress found %d, done %d; want 12 and 12", rec.found.Load(), rec.done.Load())
	}
}

// TestBackfill_StopStartsNoNewSession: once stop is closed, no session
// the listing found is started; the one in flight finishes, and the
// backfill says it was interrupted.
func TestBackfill_StopStartsNoNewSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  concurrency: 1\n")
	noCardSessions(t, h, 12)
	stop := make(chan struct{})
	var first atomic.Bool
	h.hooks.AfterPatch = func(string) error {
		if !first.Swap(true) {
			close(stop)
		}
		return nil
	}
	h.reopen()
	s, err := h.eng.Backfill(context.Background(), stop, epoch.Add(-72*time.Hour), time.Time{})
	if err != nil || !s.Interrupted || s.Written != 1 {
		t.Fatalf("backfill: %s, %v; want 1 written and interrupted", s, err)
	}
	if n := h.count(sandbox.RouteCreateCard); n != 1 {
		t.Errorf("%d cards created after the stop came with the first, want 1", n)
	}
	// Run again, it finishes the rest.
	h.hooks.AfterPatch = nil
	h.reopen()
	if s, err := h.eng.Backfill(context.Background(), nil, epoch.Add(-72*time.Hour), time.Time{}); err != nil || s.Interrupted {
		t.Fatalf("second backfill: %s, %v", s, err)
	}
	if n := h.count(sandbox.RouteCreateCard); n != 12 {
		t.Errorf("%d cards after the second backfill, want 12", n)
	}
}
