package sandbox

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// esmStore holds the data cards of every template. Card ids are one
// numeric space over all templates, as in ESM.
type esmStore struct {
	mu    sync.RWMutex
	next  int64
	cards map[int64]*card
	tmpls map[string]*tmplData
	// maxText refuses longer string values (0: no limit); partial applies
	// the accepted attributes of a PATCH that refuses others.
	maxText int
	partial bool
}

// tmplData is a template with the ids of its cards and an equality index.
type tmplData struct {
	t *template
	// ids are the template's card ids, ascending; listings walk it
	// downwards.
	ids []int64
	// eq maps, per attribute (nil for unindexed ones), a lower-cased value
	// to the ascending ids of the cards holding it.
	eq []map[string][]int64
}

type card struct {
	id     int64
	td     *tmplData
	folder string
	vals   [][]value // per template attribute
}

// value is one stored attribute value.
type value struct {
	text string // string, number text, RFC 3339 date or static display value
	code string // static menu code
	ref  int64  // referenced card
}

func newESMStore(tmpls ...*template) *esmStore {
	st := &esmStore{cards: make(map[int64]*card), tmpls: make(map[string]*tmplData)}
	for _, t := range tmpls {
		td := &tmplData{t: t, eq: make([]map[string][]int64, len(t.attrs))}
		for i := range t.attrs {
			if t.attrs[i].indexed() {
				td.eq[i] = make(map[string][]int64)
			}
		}
		st.tmpls[t.code] = td
	}
	return st
}

func indexKey(s string) (string, bool) {
	k := strings.ToLower(s)
	return k, len(k) <= indexedLen
}

func insertSorted(ids []int64, id int64) []int64 {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

func removeSorted(ids []int64, id int64) []int64 {
	if i, found := slices.BinarySearch(ids, id); found {
		return slices.Delete(ids, i, i+1)
	}
	return ids
}

// setAttr replaces the values of attribute i of c, keeping the index.
func (c *card) setAttr(i int, vals []value) {
	if eq := c.td.eq[i]; eq != nil {
		for _, v := range c.vals[i] {
			if k, ok := indexKey(v.text); ok {
				if ids := removeSorted(eq[k], c.id); len(ids) > 0 {
					eq[k] = ids
				} else {
					delete(eq, k)
				}
			}
		}
		for _, v := range vals {
			if k, ok := indexKey(v.text); ok {
				eq[k] = insertSorted(eq[k], c.id)
			}
		}
	}
	c.vals[i] = vals
}

// create adds a card of td with vals (indexed like the template's
// attributes; nil entries are empty) and returns it.
func (st *esmStore) create(td *tmplData, folder string, vals map[int][]value) *card {
	st.next++
	c := &card{id: st.next, td: td, folder: folder, vals: make([][]value, len(td.t.attrs))}
	st.cards[c.id] = c
	td.ids = append(td.ids, c.id) // ids only grow, so this stays sorted
	for i, v := range vals {
		c.setAttr(i, v)
	}
	return c
}

func (st *esmStore) delete(c *card) {
	for i := range c.vals {
		c.setAttr(i, nil)
	}
	c.td.ids = removeSorted(c.td.ids, c.id)
	delete(st.cards, c.id)
}

// lookup returns the card with id if it is of template td, or nil.
func (st *esmStore) lookup(td *tmplData, id string) *card {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	c := st.cards[n]
	if c == nil || c.td != td {
		return nil
	}
	return c
}

// name is the card's display name: the first value of the template's name
// attribute, or the template name and id.
func (c *card) name() string {
	if i := c.td.t.nameAttr; i >= 0 && len(c.vals[i]) > 0 {
		return c.vals[i][0].text
	}
	return c.td.t.name + " " + strconv.FormatInt(c.id, 10)
}

// matches reports whether c satisfies every condition.
func (c *card) matches(conds []cond) bool {
	for _, cd := range conds {
		if !c.matchesOne(cd) {
			return false
		}
	}
	return true
}

func (c *card) matchesOne(cd cond) bool {
	a := &c.td.t.attrs[cd.attr]
	for _, v := range c.vals[cd.attr] {
		if a.typ == TypeReference {
			if strconv.FormatInt(v.ref, 10) == cd.value {
				return true
			}
			continue
		}
		if strings.ToLower(v.text) == cd.lower {
			return true
		}
	}
	return false
}

// candidates returns the ascending ids that can satisfy conds: the
// smallest index entry of an indexed condition, or every id of td.
func (td *tmplData) candidates(conds []cond) []int64 {
	best, found := td.ids, false
	for _, cd := range conds {
		eq := td.eq[cd.attr]
		if eq == nil || len(cd.lower) > indexedLen {
			continue
		}
		if ids := eq[cd.lower]; !found || len(ids) < len(best) {
			best, found = ids, true
		}
	}
	return best
}

// list returns up to limit cards of td matching conds with ids below
// `below` (0: no bound), in descending id order, and whether more follow.
func (st *esmStore) list(td *tmplData, conds []cond, below int64, limit int) ([]*card, bool) {
	ids := td.candidates(conds)
	end := len(ids)
	if below > 0 {
		end, _ = slices.BinarySearch(ids, below)
	}
	var out []*card
	for i := end - 1; i >= 0; i-- {
		c := st.cards[ids[i]]
		if !c.matches(conds) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, c)
	}
	return out, false
}
