package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// runCmd runs every tenant on its own cron schedule until a signal.
type runCmd struct {
	p           *Program
	configs     configList
	stopTimeout time.Duration
	reset       bool
}

func (c *runCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
	fs.DurationVar(&c.stopTimeout, "stop-timeout", 30*time.Second,
		"on SIGTERM, how long running passes may take to finish their writes")
	resetFlag(fs, &c.reset)
}

func (c *runCmd) run(ctx context.Context, stop <-chan struct{}) error {
	cfgs, err := loadConfigs(c.configs)
	if err != nil {
		return err
	}
	var tenants []*tenant
	defer func() {
		for _, t := range tenants {
			t.Close()
		}
	}()
	for _, cfg := range cfgs {
		t, err := c.p.openTenant(ctx, cfg, opening{reset: c.reset})
		if err != nil {
			return fmt.Errorf("tenant %s: %w", cfg.Tenant, err)
		}
		tenants = append(tenants, t)
	}
	// Passes run under their own context: the scheduler's shutdown must
	// not cut off a pass that is finishing its writes.
	passCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := gocron.NewScheduler(gocron.WithStopTimeout(c.stopTimeout))
	if err != nil {
		return err
	}
	for _, t := range tenants {
		_, err := s.NewJob(
			gocron.CronJob(t.cfg.Schedule, t.cfg.ScheduleSeconds),
			gocron.NewTask(func() { c.pass(passCtx, stop, t) }),
			gocron.WithName(t.cfg.Tenant),
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
		)
		if err != nil {
			return withCode(exitConfig, fmt.Errorf("%s: schedule %q: %w", t.cfg.File, t.cfg.Schedule, err))
		}
		c.p.logger.Info("scheduled", "tenant", t.cfg.Tenant, "schedule", t.cfg.Schedule)
	}
	s.Start()
	select {
	case <-stop:
	case <-ctx.Done():
	}
	c.p.logger.Info("stopping: letting running passes finish their writes", "stop_timeout", c.stopTimeout)
	sctx, scancel := context.WithTimeout(context.Background(), c.stopTimeout)
	defer scancel()
	done := make(chan error, 1)
	go func() { done <- s.ShutdownWithContext(sctx) }()
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

// pass runs one scheduled pass of t and reports it.
func (c *runCmd) pass(ctx context.Context, stop <-chan struct{}, t *tenant) {
	s, err := t.engine.Pass(ctx, stop)
	if err != nil {
		t.log.Error("pass failed", "err", err)
	}
	fmt.Fprintln(c.p.Stdout, summaryLine(s, err))
}
