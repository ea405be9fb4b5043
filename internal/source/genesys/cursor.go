package genesys

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// Genesys lists a conversation's message ids with their messageTime but
// offers no "after" parameter: which ids are new is for the adapter to
// remember. The cursor remembers it in bounded space:
//
//   - W, a time: every listed id with a messageTime before W was fetched;
//   - S, the ids fetched with a messageTime at or after W.
//
// An id is new when its messageTime is at or after W and it is not in S.
// After a fetch, W moves to cursorWindow before the newest messageTime
// (never back), and S keeps the ids from W on: a message that shows up
// late, with a messageTime up to cursorWindow before the newest one
// fetched, or with the same messageTime and a lower id, is still found.
// S holds at most cursorMaxIDs ids (more within the window move W up to
// the oldest kept); receipts and events count as fetched, so that they are
// not fetched again.
const (
	cursorWindow = 2 * time.Minute
	cursorMaxIDs = 100
	// cursorHardMaxIDs bounds S when more than cursorMaxIDs ids share
	// one messageTime.
	cursorHardMaxIDs = 1000
	// cursorMaxLen bounds a cursor the engine hands back.
	cursorMaxLen = 64 << 10
)

// cursor is the parsed form of the adapter's cursor.
type cursor struct {
	// W is zero at the start: nothing fetched yet.
	W    time.Time
	Seen map[string]bool
}

// wireCursor is the cursor's JSON: {"w":<unix ms>,"s":[ids…]}.
type wireCursor struct {
	W int64    `json:"w"`
	S []string `json:"s"`
}

// parseCursor reads a cursor Messages handed out; "" is the start.
func parseCursor(s string) (cursor, error) {
	c := cursor{Seen: map[string]bool{}}
	if s == "" {
		return c, nil
	}
	var w wireCursor
	if len(s) > cursorMaxLen || json.Unmarshal([]byte(s), &w) != nil || w.W <= 0 {
		return c, fmt.Errorf("cursor %q is not one of this adapter's", source.Clip(s, 64))
	}
	c.W = time.UnixMilli(w.W).UTC()
	for _, id := range w.S {
		c.Seen[id] = true
	}
	return c, nil
}

// isNew reports whether a listed id is not yet fetched.
func (c cursor) isNew(id string, t time.Time) bool {
	return !t.Before(c.W) && !c.Seen[id]
}

// listedID is one message id of a conversation with its messageTime.
type listedID struct {
	ID   string
	Time time.Time
}

// advance returns the cursor after every id of listed was fetched.
func (c cursor) advance(listed []listedID) cursor {
	if len(listed) == 0 {
		return c
	}
	newest := listed[0].Time
	for _, l := range listed {
		if l.Time.After(newest) {
			newest = l.Time
		}
	}
	w := newest.Add(-cursorWindow).Truncate(time.Millisecond)
	if w.Before(c.W) {
		w = c.W
	}
	kept := keptFrom(listed, w)
	if len(kept) > cursorMaxIDs {
		// The oldest kept id's time becomes W; ids sharing it stay.
		w = kept[len(kept)-cursorMaxIDs].Time
		kept = keptFrom(listed, w)
		if len(kept) > cursorHardMaxIDs {
			w = w.Add(time.Millisecond)
			kept = keptFrom(listed, w)
		}
	}
	next := cursor{W: w, Seen: make(map[string]bool, len(kept))}
	for _, l := range kept {
		next.Seen[l.ID] = true
	}
	return next
}

// keptFrom returns the ids of listed at or after w, ordered by (time, id).
func keptFrom(listed []listedID, w time.Time) []listedID {
	var out []listedID
	for _, l := range listed {
		if !l.Time.Before(w) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b listedID) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID))
	})
	return out
}

// String encodes the cursor; the start is "".
func (c cursor) String() string {
	if c.W.IsZero() {
		return ""
	}
	ids := make([]string, 0, len(c.Seen))
	for id := range c.Seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b, _ := json.Marshal(wireCursor{W: max(c.W.UnixMilli(), 1), S: ids})
	return string(b)
}
