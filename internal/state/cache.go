package state

import (
	"context"
	"database/sql"
	"errors"
)

// CacheGet returns the value a chat platform adapter cached under
// namespace and key; ok is false when there is none. The value is the
// adapter's own encoding.
func (s *Store) CacheGet(ctx context.Context, namespace, key string) (value string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT value FROM source_cache WHERE namespace = ? AND key = ?`, namespace, key).
		Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, describe(err)
	}
	return value, true, nil
}

// CachePut stores value under namespace and key, replacing what was there.
// Rows untouched for as long as PruneClosed keeps closed sessions are
// dropped with them.
func (s *Store) CachePut(ctx context.Context, namespace, key, value string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO source_cache (namespace, key, value, touched_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, touched_at = excluded.touched_at`,
			namespace, key, value, unixNano(s.now()))
		return err
	})
}
