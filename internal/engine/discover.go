package engine

import (
	"context"
	"hash/maphash"
	"strconv"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/esm"
)

// discover passes the cards whose active attribute holds the active value
// to fn while ESM sends them: from ESM's card stream, or page by page with
// esm.discovery: pages.
func (e *Engine) discover(ctx context.Context, fn func(esm.Card) error) error {
	a := e.cfg.ESM.Attributes
	filter, err := esm.Eq(a.Active, e.cfg.ESM.ActiveValues.Active.Value)
	if err != nil {
		return err
	}
	list := e.esm.StreamCards
	if e.cfg.ESM.Discovery == config.DiscoveryPages {
		list = e.esm.ListCards
	}
	// Only the session id is read; the filter already says the card is
	// active. Each attribute more is decoded for every active card.
	return list(ctx, e.cfg.ESM.Template, filter, []string{a.SessionID}, fn)
}

// firstSight records that session id was found on card and reports
// whether this is the first time this pass. The same card again (a stream
// asked for twice) is passed over quietly; a second card for the session is
// warned about, and the first card found is the one written.
func (e *Engine) firstSight(seen *activeSet, id, card string) bool {
	other, dup := seen.add(id, card)
	switch {
	case !dup:
		return true
	case other != seen.cardKey(card):
		e.log.Warn("two active cards for one session; writing the one found first",
			"session", id, "card", card, "written_card", cardName(other))
	}
	return false
}

// activeSet holds the sessions a pass found on active cards, with the card
// each was found on, in a few dozen bytes per session: a pass over 100,000
// cards keeps no copy of their ids. A session id is kept as a 128-bit hash
// under seeds drawn for the pass (a collision is as good as impossible, and
// could not repeat in the next pass); a card id as its number.
type activeSet struct {
	seeds [2]maphash.Seed
	cards map[[2]uint64]uint64
}

func newActiveSet() *activeSet {
	return &activeSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, cards: make(map[[2]uint64]uint64)}
}

func (s *activeSet) key(id string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], id), maphash.String(s.seeds[1], id)}
}

// hashedCard marks a cardKey that is a hash, for a card id that is not a
// number (ESM's are).
const hashedCard = 1 << 63

func (s *activeSet) cardKey(card string) uint64 {
	if n, err := strconv.ParseUint(card, 10, 63); err == nil {
		return n
	}
	return maphash.String(s.seeds[0], card) | hashedCard
}

// cardName shows a cardKey in a log line.
func cardName(k uint64) string {
	if k&hashedCard != 0 {
		return "(another card)"
	}
	return strconv.FormatUint(k, 10)
}

// add records session id on card; when the session was found before it
// returns the card key it was found on, and true.
func (s *activeSet) add(id, card string) (uint64, bool) {
	k := s.key(id)
	if other, ok := s.cards[k]; ok {
		return other, true
	}
	s.cards[k] = s.cardKey(card)
	return 0, false
}

// has reports whether session id was found.
func (s *activeSet) has(id string) bool {
	_, ok := s.cards[s.key(id)]
	return ok
}
