package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"sync"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/metrics"
)

// onceCmd runs one pass per tenant, the tenants side by side, and prints
// one summary line per tenant.
type onceCmd struct {
	p           *Program
	configs     configList
	reset       bool
	metricsFile string
}

func (c *onceCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
	resetFlag(fs, &c.reset)
	metricsFileFlag(fs, &c.metricsFile)
}

// metricsFileFlag registers -metrics-file on fs.
func metricsFileFlag(fs *flag.FlagSet, path *string) {
	fs.StringVar(path, "metrics-file", "",
		"write the metrics to this file when done, in the node_exporter text-file format (written atomically)")
}

// withMetricsFile collects metrics while run runs and writes them to path,
// when path is set. A file that cannot be written makes the exit status
// at least 1: the pass is done, but whoever watches the file is blind.
func (p *Program) withMetricsFile(path string, run func() int) int {
	if path == "" {
		return run()
	}
	p.metrics = metrics.New(false)
	code := run()
	if err := p.metrics.WriteFile(path); err != nil {
		p.logger.Error("metrics file not written", "err", err)
		code = max(code, exitPartial)
	}
	return code
}

// resetFlag registers -reset-state on fs.
func resetFlag(fs *flag.FlagSet, reset *bool) {
	fs.BoolVar(reset, "reset-state", false,
		"forget each tenant's cursors and written values, and bind its state to the configured ESM and chat platform; every active card is written again")
}

func (c *onceCmd) run(ctx context.Context, stop <-chan struct{}) error {
	ts, err := c.p.loadConfigs(c.configs, c.p.Stdout)
	if err != nil {
		return err
	}
	code := c.p.withMetricsFile(c.metricsFile, func() int {
		return c.p.eachTenant(ctx, ts.cfgs, opening{reset: c.reset}, "sync", func(t *tenant) (engine.Summary, error) {
			return t.engine.Pass(ctx, stop)
		})
	})
	return exitWith(max(ts.code(), code))
}

// eachTenant runs pass for every tenant at once, so that one tenant's
// trouble never holds up another, prints each summary line, and returns
// the worst exit status.
func (p *Program) eachTenant(ctx context.Context, cfgs []*config.Config, o opening, kind string, pass func(*tenant) (engine.Summary, error)) int {
	codes := make([]int, len(cfgs))
	var (
		wg  sync.WaitGroup
		out sync.Mutex
	)
	for i, cfg := range cfgs {
		wg.Go(func() {
			s, err := p.tenantPass(ctx, cfg, o, kind, pass)
			codes[i] = outcomeCode(s, err)
			out.Lock()
			defer out.Unlock()
			p.logSummary(kind, s, err)
			fmt.Fprintln(p.Stdout, summaryLine(s, err))
		})
	}
	wg.Wait()
	worst := exitOK
	for _, c := range codes {
		worst = max(worst, c)
	}
	return worst
}

// logSummary logs a finished pass with its summary, so that the log
// stream (JSON with -log-format json) holds what the summary line says.
func (p *Program) logSummary(kind string, s engine.Summary, err error) {
	attrs := []any{"tenant", s.Tenant, "kind", kind, "result", passResult(s, err), "sessions", s.Sessions,
		"written", s.Written, "unchanged", s.Unchanged, "ended", s.Ended, "failed", s.Failed, "skipped", s.Skipped,
		"dropped", s.Dropped, "interrupted", s.Interrupted, "duration", s.Duration}
	if err != nil {
		p.logger.Error("pass failed", append(attrs, "err", err)...)
		return
	}
	p.logger.Info("pass finished", attrs...)
}

// summaryLine is a tenant's line on stdout: the pass's summary, and the
// error that ended it, if one did.
func summaryLine(s engine.Summary, err error) string {
	if err == nil {
		return s.String()
	}
	return s.String() + " error=" + strconv.Quote(err.Error())
}

func (p *Program) tenantPass(ctx context.Context, cfg *config.Config, o opening, kind string, pass func(*tenant) (engine.Summary, error)) (engine.Summary, error) {
	t, err := p.openTenant(ctx, cfg, o)
	if err != nil {
		return engine.Summary{Tenant: cfg.Tenant}, err
	}
	defer t.Close()
	s, err := pass(t)
	p.recordPass(ctx, t, kind, s, err)
	return s, err
}
