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
	fmt.Fprintf(w, "tenant=%s state=%s\n", cfg.Tenant, cfg.StatePath)
	s, err := state.OpenReadOnly(cfg.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "  no state yet: no pass has run\n")
		return nil
	}
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  sessions: tracked=%d active=%d ended=%d failing=%d\n", n.Tracked, n.Active, n.Ended, n.Failing)
	if n.Failing > 0 {
		fmt.Fprintf(w, "  failing:\n")
		err = s.Sessions(ctx, func(ss state.Session) error {
			if ss.Failures > 0 {
				fmt.Fprintf(w, "    session=%s card=%s failures=%d next_attempt=%s error=%s\n", ss.ID, ss.CardID,
					ss.Failures, ss.NextAttempt.Format(time.RFC3339), strconv.Quote(ss.LastError))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	runs, err := s.Runs(ctx, c.runs)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  recent runs:\n")
	for _, r := range runs {
		took := "unfinished"
		if !r.Finished.IsZero() {
			took = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
		}
		line := fmt.Sprintf("    %s %-8s sessions=%d written=%d unchanged=%d ended=%d failed=%d duration=%s",
			r.Started.Local().Format("2006-01-02 15:04:05"), r.Kind, r.Sessions, r.Written, r.Unchanged, r.Ended, r.Failed, took)
		if r.Error != "" {
			line += " error=" + strconv.Quote(r.Error)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
