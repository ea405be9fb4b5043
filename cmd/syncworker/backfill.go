package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/engine"
)

// backfillCmd syncs every session of a time range, creating missing cards.
type backfillCmd struct {
	p            *Program
	configs      configList
	since, until string
	reset        bool
	metricsFile  string
}

func (c *backfillCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
	fs.StringVar(&c.since, "since", "", "sessions updated since DATE (2006-01-02, UTC, or RFC 3339); required")
	fs.StringVar(&c.until, "until", "", "only sessions started before DATE (2006-01-02, UTC, or RFC 3339)")
	resetFlag(fs, &c.reset)
	metricsFileFlag(fs, &c.metricsFile)
}

func (c *backfillCmd) run(ctx context.Context, stop <-chan struct{}) error {
	if c.since == "" {
		return withCode(exitConfig, errors.New("-since is required"))
	}
	since, err := parseDate("-since", c.since)
	if err != nil {
		return err
	}
	var until time.Time
	if c.until != "" {
		if until, err = parseDate("-until", c.until); err != nil {
			return err
		}
		if !until.After(since) {
			return withCode(exitConfig, fmt.Errorf("-until %s is not after -since %s", c.until, c.since))
		}
	}
	ts, err := c.p.loadConfigs(c.configs, c.p.Stdout)
	if err != nil {
		return err
	}
	names := make([]string, len(ts.cfgs))
	for i, cfg := range ts.cfgs {
		names[i] = cfg.Tenant
	}
	var progress *backfillProgress
	if len(names) > 0 {
		progress = c.p.startProgress(names)
	}
	o := opening{reset: c.reset}
	if progress != nil {
		o.progress = progress.of
	}
	code := c.p.withMetricsFile(c.metricsFile, func() int {
		defer func() {
			if progress != nil {
				progress.stop()
			}
		}()
		return c.p.eachTenant(ctx, ts.cfgs, o, "backfill", func(t *tenant) (engine.Summary, error) {
			return t.engine.Backfill(ctx, stop, since, until)
		})
	})
	return exitWith(max(ts.code(), code))
}

func parseDate(flagName, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, withCode(exitConfig, fmt.Errorf("%s %q: want a date like 2024-06-01 or 2024-06-01T08:00:00Z", flagName, s))
}
