package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// identityKey is the meta key holding the Identity a state file belongs to.
const identityKey = "identity"

// Identity names the systems a state file's cursors and written values are
// about: the ESM (base URL and template) and the chat platform (kind and
// base URL). The same state used against other systems would take their
// cards for written when they are not.
type Identity struct {
	ESM      string `json:"esm"`
	Template string `json:"template"`
	Platform string `json:"platform"`
	Chat     string `json:"chat"`
}

// normal returns id with its URLs in one spelling, so that a trailing
// slash or an upper-case host is not a different system.
func (id Identity) normal() Identity {
	id.ESM, id.Chat = normalURL(id.ESM), normalURL(id.Chat)
	return id
}

func normalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// diff lists the fields of want that differ from id, as "what: stored → now".
func (id Identity) diff(want Identity) []string {
	var out []string
	for _, f := range []struct{ name, was, now string }{
		{"esm.base_url", id.ESM, want.ESM},
		{"esm.template", id.Template, want.Template},
		{"chat.platform", id.Platform, want.Platform},
		{"chat.base_url", id.Chat, want.Chat},
	} {
		if f.was != f.now {
			out = append(out, fmt.Sprintf("%s was %q, now %q", f.name, f.was, f.now))
		}
	}
	return out
}

// IdentityError is returned by Bind when the state file belongs to other
// systems than the configured ones.
type IdentityError struct {
	Path        string
	Stored, Now Identity
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("state %s belongs to another ESM or chat platform (%s): its cursors and written values "+
		"say nothing about these cards; run with -reset-state to forget them and write every card again, "+
		"or give this tenant a new state_path", e.Path, strings.Join(e.Stored.diff(e.Now), "; "))
}

// Bind records id as the identity of the state file when it has none yet
// (a new file, or one made before identities were recorded), and returns
// an *IdentityError when it holds another one.
func (s *Store) Bind(ctx context.Context, id Identity) error {
	id = id.normal()
	raw, err := s.Meta(ctx, identityKey)
	if err != nil {
		return err
	}
	if raw == "" {
		return s.setIdentity(ctx, id)
	}
	var stored Identity
	if err := json.Unmarshal([]byte(raw), &stored); err != nil {
		return fmt.Errorf("state %s: unreadable identity %q: %w", s.path, raw, err)
	}
	if stored.normal() != id {
		return &IdentityError{Path: s.path, Stored: stored.normal(), Now: id}
	}
	return nil
}

func (s *Store) setIdentity(ctx context.Context, id Identity) error {
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	return s.SetMeta(ctx, identityKey, string(b))
}

// Reset forgets everything the state knows about cards, sessions, people
// and the chat platform (the source cache), keeps the run history, and
// binds the file to id: the next pass writes every active card whole, as
// on a first run.
func (s *Store) Reset(ctx context.Context, id Identity) error {
	b, err := json.Marshal(id.normal())
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM messages`, `DELETE FROM sessions`, `DELETE FROM people`, `DELETE FROM source_cache`,
			`DELETE FROM meta WHERE key NOT IN ('opened_at')`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, identityKey, string(b))
		return err
	})
}
