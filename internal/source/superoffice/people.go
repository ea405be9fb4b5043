package superoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// nsAssociate is the cache namespace of associate lookups.
const nsAssociate = "superoffice.associate"

// How long an associate lookup is believed: one with an email for a day,
// one without (no Person, no email, or an associate SuperOffice no longer
// knows) for an hour, so that a fixed Person record is seen soon.
const (
	associateTTL  = 24 * time.Hour
	unresolvedTTL = time.Hour
)

// person is an associate as the adapter caches it.
type person struct {
	Name  string    `json:"name,omitempty"`
	Email string    `json:"email,omitempty"`
	At    time.Time `json:"at"`
}

var errGone = errors.New("gone")

// associate returns associate id's name and email, from the cache when it
// is fresh: GET /Associate/{id} gives the name and PersonId, GET
// /Person/{id} the first of the person's Emails. A lookup that fails while
// an older one is cached returns the older one.
//
// WebAPI: GET /Associate/{id}, GET /Person/{id}.
func (c *Client) associate(ctx context.Context, id int64) (person, error) {
	key := strconv.FormatInt(id, 10)
	if p, fresh, err := c.cachedAssociate(ctx, key); err != nil || fresh {
		return p, err
	}
	// Sessions synced side by side share their agents: one lookup each.
	// The cache is read again inside, as a lookup may just have ended.
	v, err, _ := c.lookups.Do(key, func() (any, error) {
		cached, fresh, err := c.cachedAssociate(ctx, key)
		if err != nil || fresh {
			return cached, err
		}
		p, err := c.lookupAssociate(ctx, id)
		if err != nil {
			if !cached.At.IsZero() && errors.Is(err, source.ErrUnavailable) {
				return cached, nil
			}
			return person{}, err
		}
		b, _ := json.Marshal(p)
		if err := c.cache.CachePut(ctx, nsAssociate, key, string(b)); err != nil {
			return person{}, fmt.Errorf("keep the adapter's cache: %w", err)
		}
		return p, nil
	})
	p, _ := v.(person)
	return p, err
}

// cachedAssociate returns the cached lookup of associate key and whether
// it is fresh; a zero At is none.
func (c *Client) cachedAssociate(ctx context.Context, key string) (person, bool, error) {
	raw, ok, err := c.cache.CacheGet(ctx, nsAssociate, key)
	if err != nil {
		return person{}, false, fmt.Errorf("read the adapter's cache: %w", err)
	}
	var p person
	if !ok || json.Unmarshal([]byte(raw), &p) != nil {
		return person{}, false, nil
	}
	ttl := associateTTL
	if p.Email == "" {
		ttl = unresolvedTTL
	}
	age := c.now().Sub(p.At)
	return p, age >= 0 && age < ttl, nil
}

func (c *Client) lookupAssociate(ctx context.Context, id int64) (person, error) {
	p := person{At: c.now()}
	body, err := c.get(ctx, "associate", c.endpoint(fmt.Sprintf("/Associate/%d", id), nil), errGone)
	if errors.Is(err, errGone) {
		c.warn(fmt.Sprintf("associate:%d", id), "superoffice: an agent's associate is not found; the agent has no Person card",
			"associate", id)
		return p, nil
	}
	if err != nil {
		return p, err
	}
	var a wireAssociate
	if err := unmarshal(body, '{', &a); err != nil {
		return p, err
	}
	p.Name = userName(&a)
	if a.PersonID <= 0 {
		return p, nil
	}
	body, err = c.get(ctx, "person", c.endpoint(fmt.Sprintf("/Person/%d", a.PersonID), nil), errGone)
	if errors.Is(err, errGone) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	var per wirePerson
	if err := unmarshal(body, '{', &per); err != nil {
		return p, err
	}
	for _, e := range per.Emails {
		if v := strings.TrimSpace(e.Value); v != "" {
			p.Email = v
			break
		}
	}
	return p, nil
}
