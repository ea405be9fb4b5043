package genesys

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/syncworker/syncworker/internal/source"
)

// Users and external contacts are looked up once and cached (SPEC §4.3
// "People"): in memory for the life of the process and, when Options.Cache
// is set, in that persistent cache too, so that a new process (a cron
// `once`) need not look them up again. Without it each process looks each
// person up once.
const (
	personTTL    = time.Hour
	notFoundTTL  = 5 * time.Minute
	maxPeople    = 10000
	userPath     = "/api/v2/users/"
	contactsPath = "/api/v2/externalcontacts/contacts/"
	// cacheNamespace is this adapter's namespace in Options.Cache.
	cacheNamespace = "genesys-cloud"
)

// Cache is where looked-up people outlive the process: the tenant's
// state file.
type Cache = source.Cache

// cachedPerson is a person in the persistent cache.
type cachedPerson struct {
	P  person    `json:"p"`
	At time.Time `json:"at"`
}

// errPersonNotFound is a 404 for a user or an external contact: the
// person was deleted; the conversation still reads, by name only.
var errPersonNotFound = errors.New("person not found")

// person is what a lookup found.
type person struct {
	Name  string `json:"n,omitempty"`
	Email string `json:"e,omitempty"`
	// PersonalEmail is an external contact's second email.
	PersonalEmail string `json:"pe,omitempty"`
	// LastName is an external contact's; Name is then its first name.
	LastName string `json:"ln,omitempty"`
	Found    bool   `json:"f"`
}

type personEntry struct {
	p  person
	at time.Time
}

// people caches users and external contacts by id; concurrent lookups of
// one id send one request.
type people struct {
	mu    sync.Mutex
	cache map[string]personEntry
	sf    singleflight.Group
}

func newPeople() *people { return &people{cache: map[string]personEntry{}} }

// fresh reports whether a person looked up at at is still good at now.
func fresh(p person, at, now time.Time) bool {
	ttl := personTTL
	if !p.Found {
		ttl = notFoundTTL
	}
	return now.Sub(at) < ttl && !now.Before(at)
}

func (pp *people) get(key string, now time.Time) (person, bool) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	e, ok := pp.cache[key]
	if !ok {
		return person{}, false
	}
	if !fresh(e.p, e.at, now) {
		delete(pp.cache, key)
		return person{}, false
	}
	return e.p, true
}

func (pp *people) put(key string, p person, at time.Time) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if len(pp.cache) >= maxPeople {
		clear(pp.cache)
	}
	pp.cache[key] = personEntry{p: p, at: at}
}

// cached returns a person from memory, else from the persistent cache. A
// cache that cannot be read is a miss: the person is looked up again.
func (c *Client) cached(ctx context.Context, key string) (person, bool) {
	now := c.now()
	if p, ok := c.people.get(key, now); ok {
		return p, true
	}
	if c.cache == nil {
		return person{}, false
	}
	v, ok, err := c.cache.CacheGet(ctx, cacheNamespace, key)
	if err != nil {
		c.log.Warn("genesys: people cache unreadable; looking the person up", "err", err)
		return person{}, false
	}
	var cp cachedPerson
	if !ok || json.Unmarshal([]byte(v), &cp) != nil || !fresh(cp.P, cp.At, now) {
		return person{}, false
	}
	c.people.put(key, cp.P, cp.At)
	return cp.P, true
}

// remember keeps a person looked up in memory and in the persistent cache.
func (c *Client) remember(ctx context.Context, key string, p person) {
	now := c.now()
	c.people.put(key, p, now)
	if c.cache == nil {
		return
	}
	b, _ := json.Marshal(cachedPerson{P: p, At: now})
	if err := c.cache.CachePut(ctx, cacheNamespace, key, string(b)); err != nil {
		c.log.Warn("genesys: people cache not written", "err", err)
	}
}

// user returns the user userID, looked up once.
//
// Platform API: GET /api/v2/users/{userId}
func (c *Client) user(ctx context.Context, userID string) (person, error) {
	return c.lookup(ctx, "user", userPath, userID, func(b []byte) (person, error) {
		u, err := decodeUser(b)
		return person{Name: u.Name, Email: u.Email, Found: true}, err
	})
}

// contact returns the external contact id, looked up once.
//
// Platform API: GET /api/v2/externalcontacts/contacts/{contactId}
func (c *Client) contact(ctx context.Context, id string) (person, error) {
	return c.lookup(ctx, "contact", contactsPath, id, func(b []byte) (person, error) {
		ct, err := decodeContact(b)
		return person{Name: ct.FirstName, LastName: ct.LastName, Email: ct.WorkEmail,
			PersonalEmail: ct.PersonalEmail, Found: true}, err
	})
}

func (c *Client) lookup(ctx context.Context, kind, path, id string, decode func([]byte) (person, error)) (person, error) {
	key := kind + ":" + id
	if p, ok := c.cached(ctx, key); ok {
		return p, nil
	}
	v, err, _ := c.people.sf.Do(key, func() (any, error) {
		body, err := c.call(ctx, kind, "GET", path+url.PathEscape(id), nil, errPersonNotFound)
		if errors.Is(err, errPersonNotFound) {
			c.log.Warn("genesys: "+kind+" not found; using the name the conversation gives", kind, id)
			p := person{}
			c.remember(ctx, key, p)
			return p, nil
		}
		if err != nil {
			return person{}, err
		}
		p, err := decode(body)
		if err != nil {
			return person{}, err
		}
		c.remember(ctx, key, p)
		return p, nil
	})
	if err != nil {
		return person{}, c.wrap(err, "look up %s %s", kind, nameID(id))
	}
	return v.(person), nil
}
