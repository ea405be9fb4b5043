package state

import (
	"testing"
	"time"
)

func TestStore_Cache(t *testing.T) {
	s := open(t)
	if _, ok, err := s.CacheGet(ctx, "so.associate", "12"); ok || err != nil {
		t.Fatalf("CacheGet of nothing = %v, %v; want not found", ok, err)
	}
	if err := s.CachePut(ctx, "so.associate", "12", `{"name":"Ann"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.CachePut(ctx, "so.associate", "12", `{"name":"Ann Agent"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.CachePut(ctx, "so.session", "12", "other namespace"); err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.CacheGet(ctx, "so.associate", "12")
	if !ok || err != nil || v != `{"name":"Ann Agent"}` {
		t.Errorf("CacheGet = %q, %v, %v; want the value put last", v, ok, err)
	}
	if v, _, _ := s.CacheGet(ctx, "so.session", "12"); v != "other namespace" {
		t.Errorf("namespaces are not apart: %q", v)
	}
}

// The cache persists across processes, goes with PruneClosed when it was
// not written for as long, and is forgotten by Reset.
func TestStore_CachePruneAndReset(t *testing.T) {
	s := open(t)
	now := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now.Add(-60 * 24 * time.Hour) })
	s.CachePut(ctx, "ns", "old", "1")
	s.SetClock(func() time.Time { return now })
	s.CachePut(ctx, "ns", "new", "2")
	path := s.Path()
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, _ := s.CacheGet(ctx, "ns", "old"); !ok {
		t.Fatal("cache lost across reopening")
	}
	if _, err := s.PruneClosed(ctx, now.Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.CacheGet(ctx, "ns", "old"); ok {
		t.Error("an entry untouched for 60 days survived PruneClosed")
	}
	if _, ok, _ := s.CacheGet(ctx, "ns", "new"); !ok {
		t.Error("a fresh entry was pruned")
	}
	if err := s.Reset(ctx, Identity{ESM: "https://esm.example.com", Platform: "superoffice"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.CacheGet(ctx, "ns", "new"); ok {
		t.Error("Reset kept the source cache: it may describe another platform")
	}
}
