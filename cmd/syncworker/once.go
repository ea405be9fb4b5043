package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"sync"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
)

// onceCmd runs one pass per tenant, the tenants side by side, and prints
// one summary line per tenant.
type onceCmd struct {
	p       *Program
	configs configList
}

func (c *onceCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
}

func (c *onceCmd) run(ctx context.Context, stop <-chan struct{}) error {
	cfgs, err := loadConfigs(c.configs)
	if err != nil {
		return err
	}
	return c.p.eachTenant(cfgs, func(t *tenant) (engine.Summary, error) {
		return t.engine.Pass(ctx, stop)
	})
}

// eachTenant runs pass for every tenant at once, so that one tenant's
// trouble never holds up another, prints each summary line, and returns
// the worst exit status as an error.
func (p *Program) eachTenant(cfgs []*config.Config, pass func(*tenant) (engine.Summary, error)) error {
	codes := make([]int, len(cfgs))
	var (
		wg  sync.WaitGroup
		out sync.Mutex
	)
	for i, cfg := range cfgs {
		wg.Go(func() {
			s, err := p.tenantPass(cfg, pass)
			codes[i] = outcomeCode(s, err)
			out.Lock()
			defer out.Unlock()
			if err != nil {
				p.logger.Error("pass failed", "tenant", cfg.Tenant, "err", err)
			}
			fmt.Fprintln(p.Stdout, summaryLine(s, err))
		})
	}
	wg.Wait()
	worst := exitOK
	for _, c := range codes {
		worst = max(worst, c)
	}
	if worst == exitOK {
		return nil
	}
	return withCode(worst, errReported)
}

// summaryLine is a tenant's line on stdout: the pass's summary, and the
// error that ended it, if one did.
func summaryLine(s engine.Summary, err error) string {
	if err == nil {
		return s.String()
	}
	return s.String() + " error=" + strconv.Quote(err.Error())
}

func (p *Program) tenantPass(cfg *config.Config, pass func(*tenant) (engine.Summary, error)) (engine.Summary, error) {
	t, err := p.openTenant(cfg)
	if err != nil {
		return engine.Summary{Tenant: cfg.Tenant}, err
	}
	defer t.Close()
	return pass(t)
}
