package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/syncworker/syncworker/internal/engine"
)

// progressEvery is how often a backfill logs its progress when stderr is
// not a terminal.
const progressEvery = 30 * time.Second

// logSink is where the logger writes: stderr, with the progress bar, while
// there is one, taken off the line for each log record and drawn again
// after it, so that the two never mix on one line.
type logSink struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar != nil {
		s.bar.Clear()
		defer s.bar.RenderBlank()
	}
	return s.w.Write(b)
}

// withBar runs f on the bar, if there is one, under the sink's lock.
func (s *logSink) withBar(f func(*progressbar.ProgressBar)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar != nil {
		f(s.bar)
	}
}

// stderrIsTerminal reports whether w is a terminal.
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// backfillProgress reports how a backfill of several tenants advances: one
// bar for them all on a terminal, otherwise a log line per tenant every
// interval.
type backfillProgress struct {
	p       *Program
	started time.Time
	sink    *logSink // nil without a bar

	mu      sync.Mutex
	tenants map[string]*tenantProgress
	found   int // over every tenant, for the bar
	listing int // tenants whose listing has not ended

	quit chan struct{}
	done chan struct{}
}

// startProgress starts reporting the progress of a backfill of tenants.
func (p *Program) startProgress(tenants []string) *backfillProgress {
	bp := &backfillProgress{p: p, started: p.Now(), tenants: map[string]*tenantProgress{}, listing: len(tenants),
		quit: make(chan struct{}), done: make(chan struct{})}
	for _, name := range tenants {
		bp.tenants[name] = &tenantProgress{bp: bp, name: name}
	}
	terminal := stderrIsTerminal
	if p.terminal != nil {
		terminal = p.terminal
	}
	if terminal(p.Stderr) && p.sink != nil {
		desc := "backfill " + tenants[0]
		if len(tenants) > 1 {
			desc = fmt.Sprintf("backfill of %d tenants", len(tenants))
		}
		bp.sink = p.sink
		bp.sink.mu.Lock()
		bp.sink.bar = progressbar.NewOptions(max(1, len(tenants)),
			progressbar.OptionSetWriter(p.sink.w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("sessions"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
		)
		bp.sink.mu.Unlock()
		close(bp.done)
		return bp
	}
	every := cmpDuration(p.progressEvery, progressEvery)
	go bp.logEvery(every)
	return bp
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// of returns the engine.Progress of tenant.
func (bp *backfillProgress) of(tenant string) engine.Progress { return bp.tenants[tenant] }

// logEvery logs each tenant's progress every d until stop.
func (bp *backfillProgress) logEvery(d time.Duration) {
	defer close(bp.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-bp.quit:
			return
		case <-t.C:
			bp.log()
		}
	}
}

// log logs one line per tenant: sessions done of found, rate and ETA.
func (bp *backfillProgress) log() {
	elapsed := bp.p.Now().Sub(bp.started)
	names := make([]string, 0, len(bp.tenants))
	for name := range bp.tenants {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		tp := bp.tenants[name]
		done, found, listed := tp.done.Load(), tp.found.Load(), tp.listed.Load()
		attrs := []any{"tenant", name, "done", done, "found", found, "listing_ended", listed}
		rate := 0.0
		if elapsed > 0 {
			rate = float64(done) / elapsed.Seconds()
		}
		attrs = append(attrs, "rate_per_second", float64(int(rate*10))/10)
		if rate > 0 && listed {
			eta := time.Duration(float64(found-done) / rate * float64(time.Second)).Round(time.Second)
			attrs = append(attrs, "eta", eta)
		}
		bp.p.logger.Info("backfill progress", attrs...)
	}
}

// stop ends the reporting: the bar is taken off the terminal (the summary
// lines say how it ended) and the logging ends.
func (bp *backfillProgress) stop() {
	if bp.sink != nil {
		bp.sink.mu.Lock()
		defer bp.sink.mu.Unlock()
		bp.sink.bar.Exit()
		bp.sink.bar.Clear()
		bp.sink.bar = nil
		return
	}
	close(bp.quit)
	<-bp.done
}

// tenantProgress is one tenant's engine.Progress.
type tenantProgress struct {
	bp          *backfillProgress
	name        string
	found, done atomic.Int64
	listed      atomic.Bool
}

func (tp *tenantProgress) Found() {
	tp.found.Add(1)
	tp.bp.mu.Lock()
	tp.bp.found++
	pending := tp.bp.found + tp.bp.listing
	tp.bp.mu.Unlock()
	// One more step per tenant still listing keeps the bar from
	// finishing while sessions may still come.
	tp.bp.withBar(func(bar *progressbar.ProgressBar) { bar.ChangeMax(pending) })
}

func (tp *tenantProgress) Done() {
	tp.done.Add(1)
	tp.bp.withBar(func(bar *progressbar.ProgressBar) { bar.Add(1) })
}

func (tp *tenantProgress) Listed() {
	if tp.listed.Swap(true) {
		return
	}
	tp.bp.mu.Lock()
	tp.bp.listing--
	pending := tp.bp.found + tp.bp.listing
	tp.bp.mu.Unlock()
	tp.bp.withBar(func(bar *progressbar.ProgressBar) { bar.ChangeMax(max(pending, 1)) })
}

func (bp *backfillProgress) withBar(f func(*progressbar.ProgressBar)) {
	if bp.sink != nil {
		bp.sink.withBar(f)
	}
}
