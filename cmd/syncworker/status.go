package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/state"
)

// statusCmd prints what the state files say, while a worker may be
// running on them.
type statusCmd struct {
	p       *Program
	configs configList
	runs    int
}

func (c *statusCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
	fs.IntVar(&c.runs, "runs", 10, "how many recent runs to show")
}

func (c *statusCmd) run(ctx context.Context, _ <-chan struct{}) error {
	ts, err := c.p.loadConfigs(c.configs, c.p.Stdout)
	if err != nil {
		return err
	}
	worst := ts.code()
	for _, cfg := range ts.cfgs {
		// A state that cannot be read is reported under its tenant; the
		// next tenant is shown all the same.
		if err := c.tenant(ctx, cfg); err != nil {
			c.p.logger.Error("state cannot be read", "tenant", cfg.Tenant, "err", err)
			fmt.Fprintf(c.p.Stdout, "  error=%s\n", strconv.Quote(err.Error()))
			worst = exitFatal
		}
	}
	return exitWith(worst)
}

func (c *statusCmd) tenant(ctx context.Context, cfg *config.Config) error {
	w := c.p.Stdout
	fmt.Fprintf(w, "tenant=%s state=%s\n", cfg.Tenant, quoteIfNeeded(cfg.StatePath))
	s, err := state.OpenReadOnly(cfg.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "  no state yet: no pass has run\n")
		return nil
	}
	if err != nil {
		return err
	}
	defer s.Close()
	s.SetClock(c.p.Now)
	n, err := s.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  sessions: tracked=%d active=%d ended=%d failing=%d backing_off=%d\n",
		n.Tracked, n.Active, n.Ended, n.Failing, n.BackingOff)
	if err := c.loginBackoff(ctx, s); err != nil {
		return err
	}
	if n.Failing > 0 {
		if err := c.failing(ctx, s); err != nil {
			return err
		}
	}
	return c.recentRuns(ctx, s)
}

// loginBackoff says when ESM refused the tenant's login and passes wait.
func (c *statusCmd) loginBackoff(ctx context.Context, s *state.Store) error {
	b, err := engine.ReadLoginBackoff(ctx, s)
	if err != nil || b == nil {
		return err
	}
	_, err = fmt.Fprintf(c.p.Stdout, "  esm_login: refused=%d next_attempt=%s error=%s\n", b.Refusals,
		b.NextAttempt.Format(time.RFC3339), strconv.Quote(b.Error))
	return err
}

// failing lists every session whose last attempt failed: those backing
// off after their own failure, and those deferred because an API failed
// (tried again next pass, no back-off).
func (c *statusCmd) failing(ctx context.Context, s *state.Store) error {
	w := c.p.Stdout
	fmt.Fprintf(w, "  failing:\n")
	now := c.p.Now()
	return s.Sessions(ctx, func(ss state.Session) error {
		if !ss.Failing() {
			return nil
		}
		line := fmt.Sprintf("    session=%s card=%s failures=%d deferrals=%d", quoteIfNeeded(ss.ID), quoteIfNeeded(ss.CardID),
			ss.Failures, ss.Deferrals)
		if ss.Failures > 0 && ss.NextAttempt.After(now) {
			line += " next_attempt=" + ss.NextAttempt.Format(time.RFC3339)
		}
		_, err := fmt.Fprintln(w, line+" error="+strconv.Quote(ss.LastError))
		return err
	})
}

// recentRuns lists the newest runs, newest first.
func (c *statusCmd) recentRuns(ctx context.Context, s *state.Store) error {
	runs, err := s.Runs(ctx, c.runs)
	if err != nil {
		return err
	}
	w := c.p.Stdout
	fmt.Fprintf(w, "  recent runs:\n")
	for _, r := range runs {
		took := "unfinished"
		if !r.Finished.IsZero() {
			took = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
		}
		line := fmt.Sprintf("    %s %-8s sessions=%d written=%d unchanged=%d ended=%d failed=%d duration=%s",
			r.Started.Local().Format("2006-01-02 15:04:05"), r.Kind, r.Sessions, r.Written, r.Unchanged, r.Ended, r.Failed, took)
		if r.Interrupted {
			line += " interrupted=true"
		}
		if r.Error != "" {
			line += " error=" + strconv.Quote(r.Error)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
