package state

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Person is a cached Person-card lookup. CardID is empty when the lookup
// found no single match.
type Person struct {
	Email     string
	CardID    string
	CheckedAt time.Time
}

// Person returns the cached lookup for a normalised email; ok is false
// when it was never looked up.
func (s *Store) Person(ctx context.Context, email string) (p Person, ok bool, err error) {
	var checked int64
	err = s.db.QueryRowContext(ctx, `SELECT email, card_id, checked_at FROM people WHERE email = ?`, email).
		Scan(&p.Email, &p.CardID, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return Person{}, false, nil
	}
	if err != nil {
		return Person{}, false, describe(err)
	}
	p.CheckedAt = fromUnixNano(checked)
	return p, true, nil
}

// PutPerson caches the outcome of looking up email.
func (s *Store) PutPerson(ctx context.Context, email, cardID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO people (email, card_id, checked_at) VALUES (?, ?, ?)
			ON CONFLICT (email) DO UPDATE SET card_id = excluded.card_id, checked_at = excluded.checked_at`,
			email, cardID, unixNano(s.now()))
		return err
	})
}

// ForgetPerson drops a cached lookup, for instance when ESM refused a
// reference to the cached card.
func (s *Store) ForgetPerson(ctx context.Context, email string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM people WHERE email = ?`, email)
		return err
	})
}
