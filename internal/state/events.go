package state

import (
	"context"
	"database/sql"
	"time"
)

// The events a chat platform pushes (CCAI Platform's chat events) are kept
// here: the receiver stores each accepted event before it answers, and the
// platform's adapter reads a session's events back when it syncs it. The
// namespace is the adapter's, as in the source cache; bodies are the
// adapter's own encoding.

// AddEvent stores one event of session in namespace, happening at at and
// received at received. digest identifies the event's content: an event
// whose digest is stored already for the session is not stored again, and
// added is false. It returns once the event is committed and synced to the
// disk (synchronous=FULL), so that an event the platform was told was
// accepted survives a power loss too.
func (s *Store) AddEvent(ctx context.Context, namespace, session string, at, received time.Time, digest string, body []byte) (added bool, err error) {
	err = s.durableTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO source_events (namespace, session_id, event_at, received_at, digest, body)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, session_id, digest) DO NOTHING`,
			namespace, session, unixNano(at), unixNano(received), digest, body)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		added = n == 1
		return err
	})
	return added, err
}

// Events calls fn with every stored event of session in namespace, in
// event time order, ties in the order they were received.
func (s *Store) Events(ctx context.Context, namespace, session string, fn func(at, received time.Time, body []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT event_at, received_at, body FROM source_events
		WHERE namespace = ? AND session_id = ? ORDER BY event_at, id`, namespace, session)
	if err != nil {
		return describe(err)
	}
	defer rows.Close()
	for rows.Next() {
		var at, rcv int64
		var body []byte
		if err := rows.Scan(&at, &rcv, &body); err != nil {
			return describe(err)
		}
		if err := fn(fromUnixNano(at), fromUnixNano(rcv), body); err != nil {
			return err
		}
	}
	return describe(rows.Err())
}

// EventsSince calls fn once for every session of namespace that received
// an event at or after since, with the time the latest of them was
// received.
func (s *Store) EventsSince(ctx context.Context, namespace string, since time.Time, fn func(session string, last time.Time) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT session_id, max(received_at) FROM source_events
		WHERE namespace = ? AND received_at >= ? GROUP BY session_id`, namespace, unixNano(since))
	if err != nil {
		return describe(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var last int64
		if err := rows.Scan(&id, &last); err != nil {
			return describe(err)
		}
		if err := fn(id, fromUnixNano(last)); err != nil {
			return err
		}
	}
	return describe(rows.Err())
}

// CountEvents counts the events stored in namespace.
func (s *Store) CountEvents(ctx context.Context, namespace string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM source_events WHERE namespace = ?`, namespace).Scan(&n)
	return n, describe(err)
}
