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

// Tenant is the status of one tenant.
type Tenant struct {
	Name  string `json:"tenant"`
	State string `json:"state_path"`
	// Error is set when the state could not be read; nothing below is then.
	Error string `json:"error,omitempty"`
	// NoState is true when no pass has run yet.
	NoState bool `json:"no_state,omitempty"`

	Sessions   Counts      `json:"sessions"`
	Failing    []Failing   `json:"failing"`
	Login      *LoginState `json:"esm_login,omitempty"`
	Runs       []Run       `json:"recent_runs"`
	LastOK     *time.Time  `json:"last_successful_pass,omitempty"`
	NextPass   *time.Time  `json:"next_pass,omitempty"`
	Schedule   string      `json:"schedule,omitempty"`
	ServedFrom string      `json:"-"`
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
}

// Options say how much to read.
type Options struct {
	// Runs is how many recent runs to read.
	Runs int
	// MaxFailing caps the failing sessions listed (0: all).
	MaxFailing int
	// Now judges whether a back-off is still running.
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
		t.Error = fmt.Sprintf("%v (read-only open)", err)
		return t
	}
	defer s.Close()
	if err := t.read(ctx, s, o); err != nil {
		t.Error = err.Error()
	}
	return t
}

func (t *Tenant) read(ctx context.Context, s *state.Store, o Options) error {
	n, err := s.Counts(ctx)
	if err != nil {
		return err
	}
	t.Sessions = Counts{Tracked: n.Tracked, Active: n.Active, Ended: n.Ended, Failing: n.Failing, BackingOff: n.BackingOff}
	if b, err := engine.ReadLoginBackoff(ctx, s); err != nil {
		return err
	} else if b != nil {
		t.Login = &LoginState{Refusals: b.Refusals, NextAttempt: b.NextAttempt.UTC(), Error: b.Error}
	}
	if n.Failing > 0 {
		err := s.Sessions(ctx, func(ss state.Session) error {
			if !ss.Failing() || o.MaxFailing > 0 && len(t.Failing) >= o.MaxFailing {
				return nil
			}
			f := Failing{Session: ss.ID, Card: ss.CardID, Failures: ss.Failures, Deferrals: ss.Deferrals, Error: ss.LastError}
			if ss.Failures > 0 && ss.NextAttempt.After(o.Now) {
				next := ss.NextAttempt.UTC()
				f.NextAttempt = &next
			}
			t.Failing = append(t.Failing, f)
			return nil
		})
		if err != nil {
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
		ok = ok.UTC()
		t.LastOK = &ok
	}
	return nil
}

func run(r state.Run) Run {
	out := Run{Kind: r.Kind, Started: r.Started.UTC(), Sessions: r.Sessions, Written: r.Written, Unchanged: r.Unchanged,
		Ended: r.Ended, Failed: r.Failed, Skipped: r.Skipped, Interrupted: r.Interrupted, Error: r.Error}
	if !r.Finished.IsZero() {
		f := r.Finished.UTC()
		out.Finished = &f
		out.Seconds = r.Finished.Sub(r.Started).Seconds()
	}
	return out
}
