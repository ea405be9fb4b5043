package genesys

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func ids(n int, from time.Time, step time.Duration) []listedID {
	out := make([]listedID, n)
	for i := range out {
		out[i] = listedID{ID: fmt.Sprintf("m%04d", i), Time: from.Add(time.Duration(i) * step)}
	}
	return out
}

// newIDs is what a conversation listing all would give after cursor c.
func newIDs(c cursor, all []listedID) []string {
	var out []string
	for _, l := range all {
		if c.isNew(l.ID, l.Time) {
			out = append(out, l.ID)
		}
	}
	return out
}

func roundTrip(t *testing.T, c cursor) cursor {
	t.Helper()
	back, err := parseCursor(c.String())
	if err != nil {
		t.Fatalf("parse %q: %v", c.String(), err)
	}
	return back
}

func TestCursor_NothingNewAfterAdvance(t *testing.T) {
	t.Parallel()
	all := ids(500, t0, time.Second)
	c := roundTrip(t, cursor{Seen: map[string]bool{}}.advance(all))
	if got := newIDs(c, all); len(got) != 0 {
		t.Errorf("after fetching all, %d ids are new: %v", len(got), got)
	}
	if len(c.Seen) > cursorMaxIDs || len(c.String()) > 4096 {
		t.Errorf("cursor holds %d ids, %d bytes; want at most %d ids", len(c.Seen), len(c.String()), cursorMaxIDs)
	}
}

func TestCursor_FindsLateAndSameInstantMessages(t *testing.T) {
	t.Parallel()
	all := ids(10, t0, 10*time.Second)
	c := roundTrip(t, cursor{Seen: map[string]bool{}}.advance(all))
	last := all[len(all)-1].Time
	later := append(all,
		listedID{ID: "a-same-instant-lower-id", Time: last},
		listedID{ID: "z-late-within-window", Time: last.Add(-time.Minute)},
		listedID{ID: "next", Time: last.Add(time.Second)},
	)
	got := newIDs(c, later)
	want := []string{"a-same-instant-lower-id", "z-late-within-window", "next"}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("new = %v, want %v", got, want)
	}
	c2 := roundTrip(t, c.advance(later))
	if got := newIDs(c2, later); len(got) != 0 {
		t.Errorf("after the second fetch, new = %v", got)
	}
	if c2.W.Before(c.W) {
		t.Errorf("W moved back: %v before %v", c2.W, c.W)
	}
}

func TestCursor_ManyAtOneInstantStayBounded(t *testing.T) {
	t.Parallel()
	all := ids(3000, t0, 0)
	c := roundTrip(t, cursor{Seen: map[string]bool{}}.advance(all))
	if got := newIDs(c, all); len(got) != 0 {
		t.Errorf("%d ids new again", len(got))
	}
	if len(c.Seen) > cursorHardMaxIDs {
		t.Errorf("cursor holds %d ids, over the hard bound %d", len(c.Seen), cursorHardMaxIDs)
	}
}

func TestCursor_StartIsEmpty(t *testing.T) {
	t.Parallel()
	c, err := parseCursor("")
	if err != nil || !c.W.IsZero() || c.String() != "" {
		t.Errorf("start cursor: %+v, %v", c, err)
	}
	if got := newIDs(c, ids(3, t0, time.Second)); len(got) != 3 {
		t.Errorf("from the start, %d new, want 3", len(got))
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
