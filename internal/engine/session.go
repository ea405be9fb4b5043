package engine

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/state"
)

// outcome is what a pass did with one session.
type outcome int

const (
	unchanged outcome = iota
	written
	closed // written with the inactive value
	failed
	skipped
	dropped
	// deferred sessions failed for a reason not their own (the API
	// stumbled); they are tried again next pass without back-off.
	deferred
)

// syncSession brings one session's card up to date when it is due (see
// due; a nil changed makes every session due). An error return is fatal
// for the pass; a session's own failure is recorded, backs it off, and
// comes back as the outcome failed.
func (e *Engine) syncSession(ctx context.Context, id, cardID string, changed *changes) (outcome, error) {
	st, err := e.track(ctx, id, cardID)
	if err != nil {
		return failed, err
	}
	switch {
	case st.Done:
		// The inactive value was written, yet the card is active again:
		// someone reopened it by hand. SPEC §6: never requested again.
		e.log.Debug("closed session's card is active again; left alone", "session", id, "card", cardID)
		return skipped, nil
	case st.Failures > 0 && e.now().Before(st.NextAttempt):
		return skipped, nil
	case !e.due(st, changed, e.now()):
		return unchanged, nil
	}
	o, err := e.write(ctx, st)
	if err == nil {
		return o, nil
	}
	return e.fail(ctx, st, err)
}

// track returns the session's record, starting to track it on first sight.
func (e *Engine) track(ctx context.Context, id, cardID string) (state.Session, error) {
	st, ok, err := e.store.Session(ctx, id)
	if err != nil {
		return st, fatal(err)
	}
	if ok && st.CardID == cardID {
		return st, nil
	}
	if err := e.store.Track(ctx, id, cardID); err != nil {
		return st, fatal(err)
	}
	if ok {
		e.log.Warn("session moved to another card; writing it whole", "session", id, "card", st.CardID, "new_card", cardID)
	}
	// Track forgot what was written when the card changed; read it back.
	st, _, err = e.store.Session(ctx, id)
	return st, fatal(err)
}

// write fetches, aggregates and writes one session, then commits.
func (e *Engine) write(ctx context.Context, st state.Session) (outcome, error) {
	fetchedAt := e.now()
	sess, err := e.src.Session(ctx, st.ID)
	if err != nil {
		return failed, err
	}
	fresh, cursor, err := e.src.Messages(ctx, st.ID, st.Cursor)
	if err != nil {
		return failed, err
	}
	// The stored transcript is numbered by position; the new messages
	// follow it in the order the source gave them.
	for i := range fresh {
		fresh[i].Seq = st.Stored + int64(i) + 1
	}
	stored, err := e.store.Messages(ctx, st.ID)
	if err != nil {
		return failed, fatal(err)
	}
	card := aggregate.Aggregate(sess, append(stored, fresh...), e.aggregateOptions(e.now()))
	var reopenUntil time.Time
	if sess.Reopenable(e.now()) {
		reopenUntil = sess.ReopenableUntil
	}
	commit := func(written map[string]string, done bool) error {
		return e.store.Commit(ctx, state.Commit{
			ID: st.ID, NewMessages: fresh, Cursor: cursor, Written: written, UpdatedAt: sess.UpdatedAt,
			StartedAt: sess.StartedAt, FetchedAt: fetchedAt, ReopenUntil: reopenUntil, Done: done,
		})
	}
	hashes, changed, err := e.writeCard(ctx, st, card, func(accepted map[string]string) error {
		// ESM took the values of a closing write: remember them before
		// the inactive value goes, so that a failure of that last PATCH
		// does not send them again.
		if err := commit(accepted, false); err != nil {
			return fatal(err)
		}
		return nil
	})
	if err != nil {
		return failed, err
	}
	if err := commit(hashes, !card.Active); err != nil {
		return failed, fatal(err)
	}
	switch {
	case len(changed) == 0:
		return unchanged, nil
	case !card.Active:
		if card.Expired {
			e.log.Info("session expired: active longer than sync.max_active_age; closed", "session", st.ID,
				"max_active_age", e.cfg.Sync.MaxActiveAge)
		}
		return closed, nil
	}
	return written, nil
}

// writeCard writes what changed on the session's card and returns the
// hashes of every value now on it and the attributes it sent. A refused
// reference to a cached Person card (deleted or merged in ESM) drops the
// cache entries and is tried once more with people looked up again.
//
// accepted is called with the hashes of a closing write's values once ESM
// accepted them, before the inactive value is sent.
func (e *Engine) writeCard(ctx context.Context, st state.Session, card aggregate.Card,
	accepted func(map[string]string) error) (map[string]string, map[string][]esm.Value, error) {
	hashes, changed, err := e.changes(ctx, st, card)
	if err != nil || len(changed) == 0 {
		return hashes, changed, err
	}
	acceptedCodes := func(codes []string) error {
		part := make(map[string]string, len(codes))
		for _, c := range codes {
			part[c] = hashes[c]
		}
		return accepted(part)
	}
	err = e.patch(ctx, st.CardID, changed, !card.Active, acceptedCodes)
	if e.refusedReference(err) {
		e.log.Info("ESM refused a Person reference; looking the people up again", "session", st.ID, "card", st.CardID, "err", err)
		e.people.forget(ctx, card)
		if hashes, changed, err = e.changes(ctx, st, card); err == nil && len(changed) > 0 {
			err = e.patch(ctx, st.CardID, changed, !card.Active, acceptedCodes)
		}
	}
	if err != nil {
		if e.refusedReference(err) {
			e.people.forget(ctx, card)
		}
		return nil, nil, err
	}
	if e.hooks.AfterPatch != nil {
		if err := e.hooks.AfterPatch(st.ID); err != nil {
			return nil, nil, fatal(err)
		}
	}
	return hashes, changed, nil
}

// changes turns card into attribute values and keeps those that differ
// from what was last written. Before a closing write every person still
// unresolved is looked up again: the card is not revisited once closed.
func (e *Engine) changes(ctx context.Context, st state.Session, card aggregate.Card) (map[string]string, map[string][]esm.Value, error) {
	values, err := e.attributes(ctx, card, !card.Active)
	if err != nil {
		return nil, nil, err
	}
	hashes := hashAttributes(values)
	return hashes, changedAttributes(values, hashes, st.Written), nil
}

// patch sends changed to the card. A closing write sends the inactive
// value only once ESM accepted every other value, in a PATCH of its own:
// ESM may apply part of a refused PATCH, and a card closed with wrong
// values would never be revisited.
// accepted gets the codes of the values ESM took before the inactive one
// is sent.
func (e *Engine) patch(ctx context.Context, cardID string, changed map[string][]esm.Value, closing bool,
	accepted func(codes []string) error) error {
	tmpl, active := e.cfg.ESM.Template, e.cfg.ESM.Attributes.Active
	inactive, ok := changed[active]
	if !closing || !ok || len(changed) == 1 {
		return e.esm.PatchCard(ctx, tmpl, cardID, changed)
	}
	rest := maps.Clone(changed)
	delete(rest, active)
	if err := e.esm.PatchCard(ctx, tmpl, cardID, rest); err != nil {
		return err
	}
	if err := accepted(slices.Collect(maps.Keys(rest))); err != nil {
		return err
	}
	return e.esm.PatchCard(ctx, tmpl, cardID, map[string][]esm.Value{active: inactive})
}

// fail handles a session's error: fatal errors end the pass, a deleted card
// stops tracking, an API's stumble defers the session to the next pass, and
// anything else backs it off.
func (e *Engine) fail(ctx context.Context, st state.Session, err error) (outcome, error) {
	switch {
	case ctx.Err() != nil:
		// The pass was cancelled; this is not the session's fault.
		return failed, ctx.Err()
	case errors.Is(err, esm.ErrCardNotFound):
		e.log.Warn("card was deleted in ESM; session dropped from tracking", "session", st.ID, "card", st.CardID)
		if err := e.store.Drop(ctx, st.ID); err != nil {
			return failed, fatal(err)
		}
		return dropped, nil
	}
	switch classify(err) {
	case classFatal:
		return failed, fatal(err)
	case classTransient:
		e.lastDeferred.Store(deferral{msg: err.Error(), noAnswer: noAnswer(err)})
		n, rerr := e.store.RecordDeferred(ctx, st.ID, err.Error())
		if rerr != nil {
			return failed, fatal(rerr)
		}
		e.log.Warn("session deferred to the next pass: "+deferralReason(err), "session", st.ID, "deferrals", n, "err", err)
		return deferred, nil
	}
	next := e.now().Add(backoff(st.Failures + 1))
	n, rerr := e.store.RecordFailure(ctx, st.ID, err.Error(), next)
	if rerr != nil {
		return failed, fatal(rerr)
	}
	e.log.Warn("session failed; backing off", "session", st.ID, "card", st.CardID, "failures", n,
		"next_attempt", next.UTC().Format("2006-01-02T15:04:05Z"), "err", err)
	return failed, nil
}

// refusedReference reports whether ESM refused a write over one of the
// Person reference attributes.
func (e *Engine) refusedReference(err error) bool {
	var we *esm.WriteError
	if !errors.As(err, &we) {
		return false
	}
	a := e.cfg.ESM.Attributes
	for _, fe := range we.Errors {
		// An error naming no attribute must not match a reference
		// attribute that is disabled (configured as "").
		if fe.Attribute == "" {
			continue
		}
		switch fe.Attribute {
		case a.Customer, a.Members, a.SupportPerson:
			return true
		}
	}
	return false
}
