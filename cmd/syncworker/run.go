package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/metrics"
)

// brokenEvery is how often run logs the tenant files it could not load.
const brokenEvery = time.Minute

// runCmd runs every tenant on its own cron schedule until a signal.
type runCmd struct {
	p           *Program
	configs     configList
	stopTimeout time.Duration
	reset       bool
	listenAddr  string
	firstPass   bool
	fleet       *fleet

	// jobs are the tenants scheduled now; the run loop changes them on a
	// reload. retired counts replaced and removed jobs still closing.
	jobs    []*job
	retired sync.WaitGroup
	// pass runs a scheduled pass of a job; extra one that its events ask
	// for (events.go).
	pass  func(*job)
	extra func(*job)
	// mu guards broken, which the reminder job reads.
	mu     sync.Mutex
	broken []*config.FileError
}

func (c *runCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
	fs.DurationVar(&c.stopTimeout, "stop-timeout", 30*time.Second,
		"on SIGTERM, how long running passes may take to finish their writes")
	resetFlag(fs, &c.reset)
	fs.StringVar(&c.listenAddr, "listen", "", "serve the status page, /healthz, /readyz and /metrics on ADDR (e.g. 127.0.0.1:9090); off when empty")
	fs.BoolVar(&c.firstPass, "first-pass", true, "run each tenant's first pass at start-up instead of waiting for its schedule")
}

// job is one tenant of run. It is scheduled whether or not its state
// could be opened, and tries again at each tick until it can: a lock is
// released, a disk is freed, someone fixes the file.
type job struct {
	cfg *config.Config
	// mu is held by a pass, so that the tenant is never closed under it.
	mu sync.Mutex
	t  *tenant // nil while the state cannot be opened
	// reset is -reset-state until it was applied, once.
	reset bool
	// running is set while a pass of the tenant runs; a tick that finds it
	// set is skipped.
	running atomic.Bool
	// id is the job's id in the scheduler; fp the fingerprint of the files
	// it was loaded from.
	id uuid.UUID
	fp string
	// prev, when set, is the job this one replaced on a reload: it is
	// closed, after its running pass, before this one opens the state.
	prev *job
	// gone is set when a reload removed or replaced the job: a tick that
	// was already on its way must not open the state again.
	gone atomic.Bool
	// events receives the tenant's pushed events once its state is open
	// (events.go); kick asks for an extra pass because one arrived.
	events atomic.Pointer[eventEndpoint]
	kick   chan struct{}
	// starts counts the passes that began, under mu.
	starts atomic.Int64
	// retired is closed when a reload removed or replaced the job: its
	// extra passes end then.
	retired     chan struct{}
	retiredOnce sync.Once
	// since is when run took the tenant on (start-up, or the reload that
	// added it): a tenant that has not passed yet is ready until twice its
	// schedule after that.
	since time.Time
}

// open opens j's tenant when it is not yet open, and logs why it cannot.
func (c *runCmd) open(ctx context.Context, j *job) error {
	if j.t != nil {
		return nil
	}
	if j.prev != nil {
		j.prev.close()
		j.prev = nil
	}
	t, err := c.p.openTenant(ctx, j.cfg, opening{reset: j.reset})
	if err != nil {
		c.p.logger.Error("state cannot be opened: the tenant is not synced until it can; trying again at each tick",
			"tenant", j.cfg.Tenant, "err", err)
		return err
	}
	j.t, j.reset = t, false
	c.attachEvents(j)
	return nil
}

func (j *job) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.t != nil {
		j.t.Close()
		j.t = nil
	}
}

func (c *runCmd) run(ctx context.Context, stop <-chan struct{}) error {
	ts, err := c.p.loadConfigs(c.configs, nil)
	if err != nil {
		return err
	}
	if c.listenAddr != "" {
		c.p.metrics = metrics.New(true)
	}
	defer func() {
		c.retired.Wait()
		for _, j := range c.jobs {
			j.close()
		}
	}()
	worst, usable := ts.code(), 0
	var jobs []*job
	for _, cfg := range ts.cfgs {
		j := &job{cfg: cfg, reset: c.reset, fp: fingerprint(cfg), kick: make(chan struct{}, 1), since: c.p.Now(),
			retired: make(chan struct{})}
		jobs = append(jobs, j)
		if err := c.open(ctx, j); err != nil {
			worst = max(worst, exitCode(err))
			continue
		}
		usable++
	}
	c.jobs, c.broken = jobs, ts.broken
	if usable == 0 {
		return withCode(worst, errors.New("no tenant can be synced: every tenant's file or state is unusable (see the errors above)"))
	}
	c.fleet = newFleet(c.p, jobs, ts.broken)
	if c.listenAddr != "" {
		closeListener, err := c.listen(ctx, c.fleet)
		if err != nil {
			return err
		}
		defer closeListener()
	}
	// Passes run under their own context: the scheduler's shutdown must
	// not cut off a pass that is finishing its writes.
	passCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := gocron.NewScheduler(gocron.WithStopTimeout(c.stopTimeout))
	if err != nil {
		return err
	}
	c.pass = func(j *job) { c.runPass(passCtx, stop, j) }
	c.extra = func(j *job) { c.extraPasses(passCtx, stop, j) }
	if err := c.schedule(s, jobs); err != nil {
		return err
	}
	s.Start()
	for {
		select {
		case <-stop:
		case <-ctx.Done():
		case <-c.p.Reload:
			c.reload(s)
			continue
		}
		return c.shutdown(ctx, s, cancel)
	}
}

// schedule adds a job per tenant, and one that keeps reminding of the
// tenant files that could not be loaded.
func (c *runCmd) schedule(s gocron.Scheduler, jobs []*job) error {
	for _, j := range jobs {
		if err := c.add(s, j); err != nil {
			return err
		}
	}
	_, err := s.NewJob(gocron.DurationJob(brokenEvery), gocron.NewTask(func() {
		for _, b := range c.currentBroken() {
			c.p.reportBroken(b)
		}
	}), gocron.WithName("unusable tenant files"))
	return err
}

// add schedules j's passes and logs its next one.
func (c *runCmd) add(s gocron.Scheduler, j *job) error {
	// Not gocron's singleton mode: it reschedules silently, and an
	// operator wants to see a tick skipped because a pass overran.
	opts := []gocron.JobOption{gocron.WithName(j.cfg.Tenant)}
	if c.firstPass {
		opts = append(opts, gocron.WithStartAt(gocron.WithStartImmediately()))
	}
	gj, err := s.NewJob(gocron.CronJob(j.cfg.Schedule, j.cfg.ScheduleSeconds), gocron.NewTask(func() { c.pass(j) }), opts...)
	if err != nil {
		return withCode(exitConfig, fmt.Errorf("%s: schedule %q: %w", j.cfg.File, j.cfg.Schedule, err))
	}
	j.id = gj.ID()
	c.extra(j)
	next := j.cfg.NextRun(c.p.Now())
	c.p.logger.Info("scheduled", "tenant", j.cfg.Tenant, "schedule", j.cfg.Schedule, "zone", zoneOf(j.cfg),
		"next_pass", next.Format(time.RFC3339), "first_pass_now", c.firstPass)
	return nil
}

// currentBroken returns the tenant files the last load could not use.
func (c *runCmd) currentBroken() []*config.FileError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

// setTenants makes jobs and broken the tenants run has, for the reminder
// and the web endpoints.
func (c *runCmd) setTenants(jobs []*job, broken []*config.FileError) {
	c.jobs = jobs
	c.mu.Lock()
	c.broken = broken
	c.mu.Unlock()
	if c.fleet != nil {
		c.fleet.replace(jobs, broken)
	}
}

// shutdown lets the running passes finish their writes within
// -stop-timeout; a second signal (ctx) cuts them off.
func (c *runCmd) shutdown(ctx context.Context, s gocron.Scheduler, cancel context.CancelFunc) error {
	c.p.logger.Info("stopping: letting running passes finish their writes", "stop_timeout", c.stopTimeout)
	sctx, scancel := context.WithTimeout(context.Background(), c.stopTimeout)
	defer scancel()
	done := make(chan error, 1)
	go func() { done <- s.ShutdownWithContext(sctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		cancel()
		err = <-done
	}
	switch {
	case ctx.Err() != nil:
		return withCode(exitFatal, errors.New("interrupted: running passes were cut off"))
	case err != nil:
		cancel()
		return withCode(exitFatal, fmt.Errorf("passes did not finish within -stop-timeout %s: %w", c.stopTimeout, err))
	}
	c.p.logger.Info("stopped")
	return nil
}

// runPass runs one scheduled pass of j, opening its state first when it
// is not open yet, and reports it.
func (c *runCmd) runPass(ctx context.Context, stop <-chan struct{}, j *job) {
	if !j.running.CompareAndSwap(false, true) {
		c.p.logger.Warn("tick skipped: the tenant's previous pass is still running", "tenant", j.cfg.Tenant)
		return
	}
	defer j.running.Store(false)
	c.passHeld(ctx, stop, j)
}

// passHeld runs one pass of j once no other pass of j runs.
func (c *runCmd) passHeld(ctx context.Context, stop <-chan struct{}, j *job) {
	j.mu.Lock()
	j.starts.Add(1)
	defer j.mu.Unlock()
	if j.gone.Load() {
		return
	}
	if err := c.open(ctx, j); err != nil {
		// A pass that cannot open the state is a fatal one, for /readyz
		// as for once's exit status.
		if c.fleet != nil {
			c.fleet.passed(j.cfg.Tenant, c.p.Now(), err)
		}
		fmt.Fprintln(c.p.Stdout, summaryLine(engine.Summary{Tenant: j.cfg.Tenant}, err))
		return
	}
	s, err := j.t.engine.Pass(ctx, stop)
	c.p.logSummary("sync", s, err)
	c.p.recordPass(ctx, j.t, "sync", s, err)
	if c.fleet != nil {
		c.fleet.passed(j.cfg.Tenant, c.p.Now(), passError(s, err))
	}
	fmt.Fprintln(c.p.Stdout, summaryLine(s, err))
	if next := j.cfg.NextRun(c.p.Now()); !next.IsZero() {
		j.t.log.Info("next pass", "at", next.Format(time.RFC3339), "zone", zoneOf(j.cfg))
	}
}
