package source

import (
	"context"
	"sync"
)

// Cache is a small persistent key/value store an adapter keeps what it
// looked up and what it must remember about a session in: SuperOffice's
// Associate emails, or who first accepted a chat before it was
// transferred. In production it is the tenant's state file
// (internal/state), so that it outlives a cron run; values are the
// adapter's own encoding, namespaced by the adapter.
//
// Implementations must be safe for concurrent use.
type Cache interface {
	// CacheGet returns the value under namespace and key; ok is false when
	// there is none.
	CacheGet(ctx context.Context, namespace, key string) (value string, ok bool, err error)
	// CachePut stores value under namespace and key, replacing what was
	// there.
	CachePut(ctx context.Context, namespace, key, value string) error
}

// MemoryCache is a Cache that lives as long as the process: for tests, and
// for an adapter built without the state file.
type MemoryCache struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// CacheGet implements Cache.
func (c *MemoryCache) CacheGet(_ context.Context, namespace, key string) (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[[2]string{namespace, key}]
	return v, ok, nil
}

// CachePut implements Cache.
func (c *MemoryCache) CachePut(_ context.Context, namespace, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]string{}
	}
	c.m[[2]string{namespace, key}] = value
	return nil
}
