package genesys

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Users and external contacts are looked up once and cached in memory for
// the life of the process (SPEC §4.3 "People"): the state offers the
// adapters no cache of their own, so a new process (a cron `once`) looks
// each person up again, once.
const (
	personTTL    = time.Hour
	notFoundTTL  = 5 * time.Minute
	maxPeople    = 10000
	userPath     = "/api/v2/users/"
	contactsPath = "/api/v2/externalcontacts/contacts/"
)

// errPersonNotFound is a 404 for a user or an external contact: the
// person was deleted; the conversation still reads, by name only.
var errPersonNotFound = errors.New("person not found")

// person is what a lookup found.
type person struct {
	Name, Email string
	// PersonalEmail is an external contact's second email.
	PersonalEmail string
	// LastName is an external contact's; Name is then its first name.
	LastName string
	Found    bool
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

func (pp *people) get(key string, now time.Time) (person, bool) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	e, ok := pp.cache[key]
	if !ok {
		return person{}, false
	}
	ttl := personTTL
	if !e.p.Found {
		ttl = notFoundTTL
	}
	if now.Sub(e.at) >= ttl || now.Before(e.at) {
		delete(pp.cache, key)
		return person{}, false
	}
	return e.p, true
}

func (pp *people) put(key string, p person, now time.Time) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if len(pp.cache) >= maxPeople {
		clear(pp.cache)
	}
	pp.cache[key] = personEntry{p: p, at: now}
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
	if p, ok := c.people.get(key, c.now()); ok {
		return p, nil
	}
	v, err, _ := c.people.sf.Do(key, func() (any, error) {
		body, err := c.call(ctx, kind, "GET", path+url.PathEscape(id), nil, errPersonNotFound)
		if errors.Is(err, errPersonNotFound) {
			c.log.Warn("genesys: "+kind+" not found; using the name the conversation gives", kind, id)
			p := person{}
			c.people.put(key, p, c.now())
			return p, nil
		}
		if err != nil {
			return person{}, err
		}
		p, err := decode(body)
		if err != nil {
			return person{}, err
		}
		c.people.put(key, p, c.now())
		return p, nil
	})
	if err != nil {
		return person{}, c.wrap(err, "look up %s %s", kind, nameID(id))
	}
	return v.(person), nil
}
