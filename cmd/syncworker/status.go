package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/status"
)

// statusCmd prints what the state files say, while a worker may be
// running on them: the same report the status page of run -listen shows,
// as text or as JSON.
type statusCmd struct {
	p       *Program
	configs configList
	runs    int
	format  string
}

func (c *statusCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
	fs.IntVar(&c.runs, "runs", 10, "how many recent runs to show")
	fs.StringVar(&c.format, "format", "text", "output format: text or json")
}

func (c *statusCmd) run(ctx context.Context, _ <-chan struct{}) error {
	if c.format != "text" && c.format != "json" {
		return withCode(exitConfig, fmt.Errorf("-format %q: want text or json", c.format))
	}
	if c.runs < 0 {
		return withCode(exitConfig, fmt.Errorf("-runs %d: want 0 or more", c.runs))
	}
	// The JSON document is the whole of stdout: unusable files are in it
	// as tenants with an error, not on lines of their own.
	var brokenOut io.Writer
	if c.format == "text" {
		brokenOut = c.p.Stdout
	}
	ts, err := c.p.loadConfigs(c.configs, brokenOut)
	if err != nil {
		return err
	}
	var broken []*config.FileError
	if c.format == "json" {
		broken = ts.broken
	}
	rep := readStatus(ctx, ts.cfgs, broken, c.p.Now(), status.Options{Runs: c.runs})
	worst := ts.code()
	for _, t := range rep.Tenants {
		// A state that cannot be read is reported under its tenant; the
		// next tenant is shown all the same.
		if t.Error != "" && t.Name != "" {
			c.p.logger.Error("state cannot be read", "tenant", t.Name, "err", t.Error)
			worst = exitFatal
		}
	}
	if c.format == "json" {
		enc := json.NewEncoder(c.p.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		return exitWith(worst)
	}
	for _, t := range rep.Tenants {
		writeTenant(c.p.Stdout, t)
	}
	return exitWith(worst)
}

// readStatus reads every tenant's state, adds what its config says of its
// schedule, and lists the files that gave no tenant: what status prints
// and the status page shows.
func readStatus(ctx context.Context, cfgs []*config.Config, broken []*config.FileError, now time.Time, o status.Options) status.Report {
	o.Now = now
	rep := status.Report{AsOf: now.UTC().Truncate(time.Second), Tenants: []status.Tenant{}}
	for _, cfg := range cfgs {
		t := status.Read(ctx, cfg.Tenant, cfg.StatePath, o)
		t.Schedule = cfg.Schedule
		if next := cfg.NextRun(now); !next.IsZero() {
			next = next.UTC()
			t.NextPass = &next
		}
		rep.Tenants = append(rep.Tenants, t)
	}
	for _, b := range broken {
		rep.Tenants = append(rep.Tenants, status.Unloaded(b.File, b))
	}
	sort.SliceStable(rep.Tenants, func(a, b int) bool { return rep.Tenants[a].Label() < rep.Tenants[b].Label() })
	return rep
}

// writeTenant prints one tenant's status as key=value lines, every time
// in RFC 3339.
func writeTenant(w io.Writer, t status.Tenant) {
	fmt.Fprintf(w, "tenant=%s state=%s\n", t.Name, quoteIfNeeded(t.State))
	if t.Error != "" {
		fmt.Fprintf(w, "  error=%s\n", strconv.Quote(t.Error))
		return
	}
	fmt.Fprintf(w, "  %s\n", passLine(t))
	if t.NoState {
		fmt.Fprintf(w, "  no state yet: no pass has run\n")
		return
	}
	n := t.Sessions
	fmt.Fprintf(w, "  sessions: tracked=%d active=%d ended=%d failing=%d backing_off=%d\n",
		n.Tracked, n.Active, n.Ended, n.Failing, n.BackingOff)
	if b := t.Login; b != nil {
		fmt.Fprintf(w, "  esm_login: refused=%d next_attempt=%s error=%s\n", b.Refusals,
			status.FormatTime(b.NextAttempt), strconv.Quote(b.Error))
	}
	if len(t.Failing) > 0 {
		fmt.Fprintf(w, "  failing:\n")
	}
	for _, f := range t.Failing {
		line := fmt.Sprintf("    session=%s card=%s failures=%d deferrals=%d", quoteIfNeeded(f.Session), quoteIfNeeded(f.Card),
			f.Failures, f.Deferrals)
		if f.NextAttempt != nil {
			line += " next_attempt=" + status.FormatTime(*f.NextAttempt)
		}
		fmt.Fprintln(w, line+" error="+strconv.Quote(f.Error))
	}
	fmt.Fprintf(w, "  recent runs:\n")
	for _, r := range t.Runs {
		fmt.Fprintln(w, "    "+runLine(r))
	}
}

// passLine says when the tenant passes next and when it last passed well.
func passLine(t status.Tenant) string {
	var b strings.Builder
	if t.Schedule != "" {
		fmt.Fprintf(&b, "schedule=%s ", strconv.Quote(t.Schedule))
	}
	if t.NextPass != nil {
		fmt.Fprintf(&b, "next_pass=%s ", status.FormatTime(*t.NextPass))
	}
	if t.LastOK == nil {
		b.WriteString("last_success=none")
		return b.String()
	}
	fmt.Fprintf(&b, "last_success=%s", status.FormatTime(*t.LastOK))
	if t.LastOKAge != nil {
		fmt.Fprintf(&b, " last_success_age=%s", status.FormatAge(time.Duration(*t.LastOKAge)*time.Second))
	}
	return b.String()
}

// runLine is one run of the history, with the fields of once's summary.
func runLine(r status.Run) string {
	took := "unfinished"
	if r.Finished != nil {
		took = time.Duration(r.Seconds * float64(time.Second)).Round(time.Millisecond).String()
	}
	line := fmt.Sprintf("%s %-8s result=%s sessions=%d written=%d unchanged=%d ended=%d failed=%d skipped=%d duration=%s",
		status.FormatTime(r.Started), r.Kind, r.Result, r.Sessions, r.Written, r.Unchanged, r.Ended, r.Failed, r.Skipped, took)
	if r.Interrupted {
		line += " interrupted=true"
	}
	if r.Error != "" {
		line += " error=" + strconv.Quote(r.Error)
	}
	return line
}
