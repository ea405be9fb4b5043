package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/state"
)

// people resolves identities to Person card ids, through the state's cache,
// so that each person costs one lookup, not one per session.
type people struct {
	esm   ESM
	store *state.Store
	cfg   config.PersonConfig
	log   *slog.Logger
	now   func() time.Time
	obs   Observer

	group  singleflight.Group // one lookup per email at a time
	mu     sync.Mutex
	warned map[string]bool // emails warned about in this pass
}

func newPeople(api ESM, store *state.Store, cfg config.PersonConfig, log *slog.Logger, now func() time.Time, obs Observer) *people {
	return &people{esm: api, store: store, cfg: cfg, log: log, now: now, obs: obs, warned: map[string]bool{}}
}

// beginPass lets each unresolved person be warned about once more.
func (p *people) beginPass() {
	p.mu.Lock()
	p.warned = map[string]bool{}
	p.mu.Unlock()
}

// resolve returns the Person card of id; ok is false when there is no
// single card for its email, which is warned about once per pass. "No
// card" is believed for esm.person.unresolved_ttl, or not at all with
// recheck.
func (p *people) resolve(ctx context.Context, id aggregate.Identity, recheck bool) (card string, ok bool, err error) {
	email := id.Key()
	if email == "" {
		p.warnOnce("n:"+id.Name, "person has no email; left off the card", "name", id.Name)
		return "", false, nil
	}
	cached, hit, err := p.store.Person(ctx, email)
	if err != nil {
		return "", false, fatal(err)
	}
	if hit && (cached.CardID != "" || !recheck && p.now().Sub(cached.CheckedAt) < p.cfg.UnresolvedTTL) {
		p.obs.PeopleCache(true)
		return p.found(email, cached.CardID)
	}
	p.obs.PeopleCache(false)
	v, err, _ := p.group.Do(email, func() (any, error) { return p.lookup(ctx, email) })
	if err != nil {
		return "", false, err
	}
	return p.found(email, v.(string))
}

func (p *people) found(email, card string) (string, bool, error) {
	if card == "" {
		p.warnOnce("e:"+email, "no single Person card for this email; left off the card", "email", email)
		return "", false, nil
	}
	return card, true, nil
}

// lookup asks ESM for the Person cards of email and caches the answer.
func (p *people) lookup(ctx context.Context, email string) (string, error) {
	ids, err := p.esm.FindPersons(ctx, p.cfg.Template, p.cfg.MatchAttribute, email)
	if err != nil {
		return "", err
	}
	card := ""
	switch len(ids) {
	case 1:
		card = ids[0]
	case 0:
	default:
		p.log.Warn("several Person cards share an email; none is used", "email", email, "cards", ids)
	}
	if err := p.store.PutPerson(ctx, email, card); err != nil {
		return "", fatal(err)
	}
	return card, nil
}

func (p *people) warnOnce(key, msg string, args ...any) {
	p.mu.Lock()
	first := !p.warned[key]
	p.warned[key] = true
	p.mu.Unlock()
	if first {
		p.log.Warn(msg, args...)
	}
}

// forget drops the cached Person cards of the people on card, so that
// the next attempt looks them up again: used when ESM refused a reference,
// which means a cached card was deleted or merged.
func (p *people) forget(ctx context.Context, card aggregate.Card) {
	ids := append([]aggregate.Identity{}, card.Members...)
	for _, id := range []*aggregate.Identity{card.Customer, card.SupportPerson} {
		if id != nil {
			ids = append(ids, *id)
		}
	}
	for _, id := range ids {
		if email := id.Key(); email != "" {
			if err := p.store.ForgetPerson(ctx, email); err != nil {
				p.log.Error("forget cached person", "email", email, "err", err)
			}
		}
	}
}
