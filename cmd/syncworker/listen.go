package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/status"
	"github.com/syncworker/syncworker/internal/web"
)

// fleet is what run knows of its tenants beyond their state files: the
// outcome of each one's last pass in this process, and the files it could
// not load. It is the web server's Source.
type fleet struct {
	p       *Program
	started time.Time
	jobs    []*job
	broken  []*config.FileError

	mu   sync.Mutex
	last map[string]lastPass
}

// lastPass is the outcome of a tenant's last pass.
type lastPass struct {
	at  time.Time
	err error
}

func newFleet(p *Program, jobs []*job, broken []*config.FileError) *fleet {
	return &fleet{p: p, started: p.Now(), jobs: jobs, broken: broken, last: map[string]lastPass{}}
}

// passed records the outcome of a pass of tenant.
func (f *fleet) passed(tenant string, at time.Time, err error) {
	f.mu.Lock()
	f.last[tenant] = lastPass{at: at, err: err}
	f.mu.Unlock()
}

// replace makes jobs and broken the tenants of the fleet (a reload). The
// last pass of a tenant it no longer has is forgotten: were the tenant
// added again, an old fatal pass would not count against it.
func (f *fleet) replace(jobs []*job, broken []*config.FileError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs, f.broken = jobs, broken
	for name := range f.last {
		if !slices.ContainsFunc(jobs, func(j *job) bool { return j.cfg.Tenant == name }) {
			delete(f.last, name)
		}
	}
}

// Status implements web.Source.
func (f *fleet) Status(ctx context.Context) status.Report {
	f.mu.Lock()
	jobs, broken := f.jobs, f.broken
	f.mu.Unlock()
	cfgs := make([]*config.Config, len(jobs))
	for i, j := range jobs {
		cfgs[i] = j.cfg
	}
	return readStatus(ctx, cfgs, broken, f.p.Now(), status.Options{Runs: 10, MaxFailing: 100})
}

// NotReady implements web.Source: every tenant's last pass must not have
// been fatal, nor be older than twice its schedule (SPEC §8); a tenant
// that has not passed yet gets that long from when run took it on (the
// start of the process, or the reload that added it).
func (f *fleet) NotReady(now time.Time) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var reasons []string
	for _, j := range f.jobs {
		name := j.cfg.Tenant
		limit := 2 * j.cfg.Interval(now)
		lp, ok := f.last[name]
		switch {
		case ok && lp.err != nil:
			reasons = append(reasons, fmt.Sprintf("tenant %s: last pass at %s failed: %v", name, lp.at.UTC().Format(time.RFC3339), lp.err))
		case ok && limit > 0 && now.Sub(lp.at) > limit:
			reasons = append(reasons, fmt.Sprintf("tenant %s: last pass at %s is older than twice its schedule (%s)", name,
				lp.at.UTC().Format(time.RFC3339), limit))
		case !ok && limit > 0 && now.Sub(f.since(j)) > limit:
			reasons = append(reasons, fmt.Sprintf("tenant %s: no pass since it was scheduled at %s", name, f.since(j).UTC().Format(time.RFC3339)))
		}
	}
	return reasons
}

// since is when run took j on; the start of the fleet for a job that does
// not say.
func (f *fleet) since(j *job) time.Time {
	if j.since.IsZero() {
		return f.started
	}
	return j.since
}

// listen serves the web endpoints on addr until ctx ends, and returns
// once the listener is open.
func (c *runCmd) listen(ctx context.Context, f *fleet) (func(), error) {
	ln, err := net.Listen("tcp", c.listenAddr)
	if err != nil {
		return nil, withCode(exitConfig, fmt.Errorf("-listen %s: %w", c.listenAddr, err))
	}
	ws := web.New(f, web.Options{Metrics: c.p.metrics.Handler(), Now: c.p.Now})
	ws.Handle("POST /events/{kind}/{tenant}", &eventRoutes{f: f})
	srv := &http.Server{Handler: ws, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.p.logger.Error("listener stopped", "err", err)
		}
	}()
	addr := ln.Addr().String()
	c.p.logger.Info("serving status, health and metrics", "addr", "http://"+addr+"/")
	if c.p.Listening != nil {
		c.p.Listening(addr)
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// passError is what the fleet records of a pass: nil unless it was fatal.
func passError(s engine.Summary, err error) error {
	if passResult(s, err) == "fatal" {
		return err
	}
	return nil
}

var _ web.Source = (*fleet)(nil)

// zoneOf names the zone a tenant's schedule runs in.
func zoneOf(cfg *config.Config) string {
	if cfg.ScheduleLocation != nil {
		return cfg.ScheduleLocation.String()
	}
	// time.Local is named "Local" whatever it is; its abbreviation now
	// (UTC, EET, …) says which.
	abbr, _ := time.Now().Zone()
	return "Local (" + abbr + ")"
}
