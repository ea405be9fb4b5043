package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Run is one pass in the run history.
type Run struct {
	ID       int64
	Kind     string // "once", "run", "backfill"
	Started  time.Time
	Finished time.Time // zero while running, or when the process died
	Sessions int
	Written  int
	// Unchanged, Ended and Failed count sessions as the summary line does.
	Unchanged, Ended, Failed int
	// Skipped counts sessions the pass left alone: backing off, or closed.
	Skipped int
	// Interrupted marks a pass stopped by a signal before it was complete.
	Interrupted bool
	Error       string
}

// StartRun records the start of a pass and returns its id.
func (s *Store) StartRun(ctx context.Context, kind string) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO runs (kind, started_at) VALUES (?, ?) RETURNING id`,
			kind, unixNano(s.now())).Scan(&id)
	})
	return id, err
}

// FinishRun records the outcome of pass r.ID, and keeps the history to its
// newest 1,000 runs.
func (s *Store) FinishRun(ctx context.Context, r Run) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET finished_at = ?, sessions = ?, written = ?, unchanged = ?,
			ended = ?, failed = ?, skipped = ?, interrupted = ?, error = ? WHERE id = ?`,
			unixNano(s.now()), r.Sessions, r.Written, r.Unchanged, r.Ended, r.Failed, r.Skipped, r.Interrupted, r.Error, r.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM runs WHERE id <= (SELECT max(id) FROM runs) - 1000`)
		return err
	})
}

// Runs returns the newest n runs, newest first.
func (s *Store) Runs(ctx context.Context, n int) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, started_at, finished_at, sessions, written, unchanged,
		ended, failed, skipped, interrupted, error FROM runs ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                 Run
			started, finished int64
		)
		if err := rows.Scan(&r.ID, &r.Kind, &started, &finished, &r.Sessions, &r.Written, &r.Unchanged,
			&r.Ended, &r.Failed, &r.Skipped, &r.Interrupted, &r.Error); err != nil {
			return nil, err
		}
		r.Started, r.Finished = fromUnixNano(started), fromUnixNano(finished)
		out = append(out, r)
	}
	return out, describe(rows.Err())
}

// LastSuccess returns when the newest pass that finished without a fatal
// error finished; zero when there is none.
func (s *Store) LastSuccess(ctx context.Context) (time.Time, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(finished_at), 0) FROM runs WHERE finished_at > 0 AND error = ''`).Scan(&n)
	return fromUnixNano(n), describe(err)
}

// Meta returns a stored value, "" when unset.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, describe(err)
}

// SetMeta stores a value under key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// Watermark returns the start of the last complete pass that listed the
// changes of source, zero when there is none.
func (s *Store) Watermark(ctx context.Context, source string) (time.Time, error) {
	raw, err := s.Meta(ctx, "watermark:"+source)
	if err != nil || raw == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("state %s: unreadable watermark %q of %s", s.path, raw, source)
	}
	return t, nil
}

// SetWatermark records t as source's watermark.
func (s *Store) SetWatermark(ctx context.Context, source string, t time.Time) error {
	return s.SetMeta(ctx, "watermark:"+source, t.UTC().Format(time.RFC3339Nano))
}
