package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/syncworker/syncworker/internal/esm"
)

// loginBackoffKey is the state's meta key of the tenant's login back-off.
const loginBackoffKey = "login_backoff"

// Back-off of a tenant whose ESM login was refused: it doubles from
// LoginBackoffBase per refusal and stops growing at LoginBackoffMax, so
// that a wrong password is not tried every tick until ESM locks the
// account.
const (
	LoginBackoffBase = 5 * time.Minute
	LoginBackoffMax  = time.Hour
)

// LoginBackoff is the state of a tenant whose ESM login was refused.
type LoginBackoff struct {
	Refusals    int       `json:"refusals"`
	NextAttempt time.Time `json:"next_attempt"`
	// Stamp is Options.CredentialsStamp when the login was refused.
	Stamp string `json:"stamp"`
	Error string `json:"error"`
}

// ReadLoginBackoff returns the login back-off stored in the state behind
// meta, nil when the last login was not refused.
func ReadLoginBackoff(ctx context.Context, meta interface {
	Meta(context.Context, string) (string, error)
}) (*LoginBackoff, error) {
	raw, err := meta.Meta(ctx, loginBackoffKey)
	if err != nil || raw == "" {
		return nil, err
	}
	var b LoginBackoff
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return nil, fmt.Errorf("unreadable login back-off %q: %w", raw, err)
	}
	return &b, nil
}

// loginBackedOff returns an error when the tenant waits out a login
// back-off: the pass must not try the refused credentials again.
func (e *Engine) loginBackedOff(ctx context.Context) error {
	b, err := ReadLoginBackoff(ctx, e.store)
	if err != nil || b == nil {
		return err
	}
	if b.Stamp != e.credentials {
		e.log.Info("ESM credentials changed since the refused login; trying them now")
		return nil
	}
	if now := e.now(); now.Before(b.NextAttempt) {
		return fmt.Errorf("%w: refused %d times in a row, last: %s; not trying again before %s "+
			"(fix esm.login or esm.password: a changed tenant or password file is tried at once)",
			errLoginBackedOff, b.Refusals, b.Error, b.NextAttempt.UTC().Format(time.RFC3339))
	}
	return nil
}

var errLoginBackedOff = errors.New("ESM login backed off")

// noteLogin records how the pass's ESM login went: a refusal starts or
// extends the back-off; a pass that got past the login (it ended well, or
// it looked at sessions) ends it.
func (e *Engine) noteLogin(ctx context.Context, s Summary, err error) {
	refused := errors.Is(err, esm.ErrLoginRefused)
	if !refused && err != nil && s.Sessions == 0 {
		return // ended before it could tell
	}
	b, rerr := ReadLoginBackoff(ctx, e.store)
	if rerr != nil {
		e.log.Error("read login back-off", "err", rerr)
	}
	if !refused {
		if b != nil {
			if err := e.store.SetMeta(ctx, loginBackoffKey, ""); err != nil {
				e.log.Error("clear login back-off", "err", err)
			}
		}
		return
	}
	next := LoginBackoff{Refusals: 1, Stamp: e.credentials, Error: err.Error()}
	if b != nil && b.Stamp == e.credentials {
		next.Refusals = b.Refusals + 1
	}
	d := LoginBackoffBase
	for i := 1; i < next.Refusals && d < LoginBackoffMax; i++ {
		d *= 2
	}
	next.NextAttempt = e.now().Add(min(d, LoginBackoffMax))
	raw, _ := json.Marshal(next)
	if err := e.store.SetMeta(ctx, loginBackoffKey, string(raw)); err != nil {
		e.log.Error("record login back-off", "err", err)
		return
	}
	e.log.Error("ESM refused the login; backing the tenant off", "refusals", next.Refusals,
		"next_attempt", next.NextAttempt.UTC().Format(time.RFC3339))
}
