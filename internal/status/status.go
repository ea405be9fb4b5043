// Package status reads what a tenant's state file says about it, for the
// status command (text and JSON) and the status page of run -listen: one
// model, so that both always show the same thing. It never holds or shows
// a secret: the state has none.
package status

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/state"
)

// Report is the status of every tenant at one moment: what `status
// -format json` prints and what the status page shows.
type Report struct {
	AsOf    time.Time `json:"as_of"`
	Tenants []Tenant  `json:"tenants"`
}

// Tenant is the status of one tenant. Every time in it is UTC, to the
// second, and Format writes it as RFC 3339.
type Tenant struct {
	// Name is the tenant; empty for a tenant file that did not load.
	Name string `json:"tenant,omitempty"`
	// File is set, instead of Name, for a tenant file that did not load.
	File  string `json:"file,omitempty"`
	State string `json:"state_path,omitempty"`
	// Error is set when the state could not be read; nothing below is then.
	Error string `json:"error,omitempty"`
	// NoState is true when no pass has run yet.
	NoState bool `json:"no_state,omitempty"`

	Schedule string     `json:"schedule,omitempty"`
	NextPass *time.Time `json:"next_pass,omitempty"`
	LastOK   *time.Time `json:"last_successful_pass,omitempty"`
	// LastOKAge is how long before the report's time the last
	// successful pass finished, in whole seconds.
	LastOKAge *int64 `json:"last_successful_pass_age_seconds,omitempty"`

	// Sessions is nil when there is no state to count in.
	Sessions *Counts     `json:"sessions,omitempty"`
	Login    *LoginState `json:"esm_login,omitempty"`
	Failing  []Failing   `json:"failing"`
	Runs     []Run       `json:"recent_runs"`
}

// Label names the tenant, or the file that gave none.
func (t Tenant) Label() string {
	if t.Name != "" {
		return t.Name
	}
	return t.File
}

// Counts are the tracked sessions by state.
type Counts struct {
	Tracked    int `json:"tracked"`
	Active     int `json:"active"`
	Ended      int `json:"ended"`
	Failing    int `json:"failing"`
	BackingOff int `json:"backing_off"`
}

// Failing is a session whose last attempt failed.
type Failing struct {
	Session     string     `json:"session"`
	Card        string     `json:"card"`
	Failures    int        `json:"failures"`
	Deferrals   int        `json:"deferrals"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	Error       string     `json:"error"`
}

// LoginState is a refused ESM login the tenant backs off from.
type LoginState struct {
	Refusals    int       `json:"refused"`
	NextAttempt time.Time `json:"next_attempt"`
	Error       string    `json:"error"`
}

// Run is one pass of the run history.
type Run struct {
	Kind        string     `json:"kind"`
	Started     time.Time  `json:"started"`
	Finished    *time.Time `json:"finished,omitempty"`
	Seconds     float64    `json:"duration_seconds"`
	Sessions    int        `json:"sessions"`
	Written     int        `json:"written"`
	Unchanged   int        `json:"unchanged"`
	Ended       int        `json:"ended"`
	Failed      int        `json:"failed"`
	Skipped     int        `json:"skipped"`
	Interrupted bool       `json:"interrupted,omitempty"`
	Error       string     `json:"error,omitempty"`
	// Result is ok, partial, interrupted or fatal, as in the metrics, or
	// unfinished.
	Result string `json:"result"`
}

// Options say how much to read.
type Options struct {
	// Runs is how many recent runs to read.
	Runs int
	// MaxFailing caps the failing sessions listed (0: all).
	MaxFailing int
	// Now judges whether a back-off is still running and how old the
	// last successful pass is.
	Now time.Time
}

// Read opens the state at path read-only (beside a running worker) and
// returns what it says. A state that cannot be read is not an error: it is
// the tenant's Error.
func Read(ctx context.Context, tenant, path string, o Options) Tenant {
	t := Tenant{Name: tenant, State: path, Failing: []Failing{}, Runs: []Run{}}
	s, err := state.OpenReadOnly(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.NoState = true
		return t
	}
	if err != nil {
		t.Error = err.Error()
		return t
	}
	defer s.Close()
	if err := t.read(ctx, s, o); err != nil {
		t.Error = err.Error()
	}
	return t
}

// Unloaded is the status of a tenant file that gave no tenant.
func Unloaded(file string, err error) Tenant {
	return Tenant{File: file, Error: "tenant file not loaded: " + err.Error(), Failing: []Failing{}, Runs: []Run{}}
}

func (t *Tenant) read(ctx context.Context, s *state.Store, o Options) error {
	n, err := s.Counts(ctx)
	if err != nil {
		return err
	}
	t.Sessions = &Counts{Tracked: n.Tracked, Active: n.Active, Ended: n.Ended, Failing: n.Failing, BackingOff: n.BackingOff}
	if b, err := engine.ReadLoginBackoff(ctx, s); err != nil {
		return err
	} else if b != nil {
		t.Login = &LoginState{Refusals: b.Refusals, NextAttempt: utc(b.NextAttempt), Error: b.Error}
	}
	if n.Failing > 0 {
		if err := t.readFailing(ctx, s, o); err != nil {
			return err
		}
	}
	runs, err := s.Runs(ctx, max(o.Runs, 1))
	if err != nil {
		return err
	}
	for i, r := range runs {
		if i < o.Runs {
			t.Runs = append(t.Runs, run(r))
		}
	}
	ok, err := s.LastSuccess(ctx)
	if err != nil {
		return err
	}
	if !ok.IsZero() {
		t.LastOK = ptr(utc(ok))
		if !o.Now.IsZero() {
			t.LastOKAge = ptr(int64(o.Now.Sub(ok) / time.Second))
		}
	}
	return nil
}

// readFailing lists the sessions whose last attempt failed: those backing
// off after a failure of their own (with their next attempt), and those an
// API failure deferred to the next pass.
func (t *Tenant) readFailing(ctx context.Context, s *state.Store, o Options) error {
	return s.Sessions(ctx, func(ss state.Session) error {
		if !ss.Failing() || o.MaxFailing > 0 && len(t.Failing) >= o.MaxFailing {
			return nil
		}
		f := Failing{Session: ss.ID, Card: ss.CardID, Failures: ss.Failures, Deferrals: ss.Deferrals, Error: ss.LastError}
		if ss.Failures > 0 && ss.NextAttempt.After(o.Now) {
			f.NextAttempt = ptr(utc(ss.NextAttempt))
		}
		t.Failing = append(t.Failing, f)
		return nil
	})
}

func run(r state.Run) Run {
	out := Run{Kind: r.Kind, Started: utc(r.Started), Sessions: r.Sessions, Written: r.Written, Unchanged: r.Unchanged,
		Ended: r.Ended, Failed: r.Failed, Skipped: r.Skipped, Interrupted: r.Interrupted, Error: r.Error}
	if !r.Finished.IsZero() {
		out.Finished = ptr(utc(r.Finished))
		out.Seconds = r.Finished.Sub(r.Started).Seconds()
	}
	out.Result = result(out)
	return out
}

// result names a run's outcome the way the metrics do: ok, partial,
// interrupted or fatal; unfinished for a run still going or cut off.
func result(r Run) string {
	switch {
	case r.Error != "":
		return "fatal"
	case r.Interrupted:
		return "interrupted"
	case r.Finished == nil:
		return "unfinished"
	case r.Failed > 0:
		return "partial"
	}
	return "ok"
}

// utc is t in UTC to the second: the one precision every view shows.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func ptr[T any](v T) *T { return &v }

// FormatTime writes t the one way every view of the status does: RFC 3339
// in UTC, to the second.
func FormatTime(t time.Time) string { return utc(t).Format(time.RFC3339) }

// FormatAge writes a duration for people: to the second below two days,
// in days above.
func FormatAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.Round(time.Second).String()
}
