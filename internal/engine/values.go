package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/esm"
)

// attributes turns a card's values into ESM attribute values under the
// tenant's attribute codes, resolving people to Person card references.
// Attributes whose code is configured as "" are left out. With recheck,
// people remembered as having no Person card are looked up again.
func (e *Engine) attributes(ctx context.Context, c aggregate.Card, recheck bool) (map[string][]esm.Value, error) {
	a := e.cfg.ESM.Attributes
	out := map[string][]esm.Value{}
	set := func(code string, vs ...esm.Value) {
		if code != "" {
			out[code] = vs
		}
	}
	if c.TranscriptMissing {
		set(a.ChatLog)
		set(a.MessageCount)
	} else {
		set(a.ChatLog, esm.String(c.ChatLog))
		set(a.MessageCount, esm.Number(int64(c.MessageCount)))
	}
	set(a.StartTime, esm.DateTime(c.StartTime))
	set(a.EndTime)
	if c.EndTime != nil {
		set(a.EndTime, esm.DateTime(*c.EndTime))
	}
	set(a.FirstReplyWait)
	if c.FirstReplyWait != nil {
		set(a.FirstReplyWait, esm.Number(*c.FirstReplyWait))
	}
	active := e.cfg.ESM.ActiveValues.Active
	if !c.Active {
		active = e.cfg.ESM.ActiveValues.Inactive
	}
	set(a.Active, esm.Static(active.Value, active.Code))

	if a.Customer == "" && a.Members == "" && a.SupportPerson == "" {
		return out, nil
	}
	ref := func(id *aggregate.Identity) ([]esm.Value, error) {
		if id == nil {
			return nil, nil
		}
		card, ok, err := e.people.resolve(ctx, *id, recheck)
		if err != nil || !ok {
			return nil, err
		}
		return []esm.Value{esm.Ref(card)}, nil
	}
	customer, err := ref(c.Customer)
	if err != nil {
		return nil, err
	}
	set(a.Customer, customer...)
	support, err := ref(c.SupportPerson)
	if err != nil {
		return nil, err
	}
	set(a.SupportPerson, support...)
	var members []esm.Value
	for _, m := range c.Members {
		r, err := ref(&m)
		if err != nil {
			return nil, err
		}
		// Two identities may resolve to one Person card; list it once.
		if len(r) == 1 && !contains(members, r[0]) {
			members = append(members, r[0])
		}
	}
	set(a.Members, members...)
	return out, nil
}

func contains(vs []esm.Value, v esm.Value) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// hashAttributes fingerprints each attribute's values as they go on the
// wire, so that what was written can be remembered without storing it.
func hashAttributes(values map[string][]esm.Value) map[string]string {
	out := make(map[string]string, len(values))
	for code, vs := range values {
		if vs == nil {
			vs = []esm.Value{}
		}
		b, err := json.Marshal(vs)
		if err != nil {
			// A value that cannot be encoded cannot be written either;
			// leaving the hash empty makes it always look changed, and
			// the write reports the error.
			out[code] = ""
			continue
		}
		sum := sha256.Sum256(b)
		out[code] = hex.EncodeToString(sum[:16])
	}
	return out
}

// changedAttributes keeps the attributes whose hash differs from the one
// last written.
func changedAttributes(values map[string][]esm.Value, hashes, written map[string]string) map[string][]esm.Value {
	out := maps.Clone(values)
	for code := range values {
		if h, ok := written[code]; ok && h != "" && h == hashes[code] {
			delete(out, code)
		}
	}
	return out
}
