package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// Session is the worker's record of one tracked chat session.
type Session struct {
	ID     string
	CardID string
	// Cursor is the chat platform adapter's cursor after the last message
	// stored; the next pass asks for messages after it. "" is the start.
	Cursor string
	// Stored is the position of the last message stored (0: none); new
	// messages go after it.
	Stored int64
	// Written maps each attribute code to a hash of the values last
	// written to it and confirmed by ESM.
	Written map[string]string
	// UpdatedAt is the platform's updated_at of the session when its card
	// was last written.
	UpdatedAt time.Time
	// StartedAt is the session's started_at, known once it was written.
	StartedAt time.Time
	// ReopenUntil is set while an ended session may still be reopened: it
	// is not final before then.
	ReopenUntil time.Time
	// Pending marks a session whose last attempt the API cut short: it is
	// synced next pass even if the platform lists no change.
	Pending bool
	// Done is set once the inactive value is written.
	Done bool
	// Failures counts the session's own failures in a row; it backs off
	// until NextAttempt.
	Failures    int
	NextAttempt time.Time
	// Deferrals counts attempts in a row that an API cut short (no
	// back-off); LastError is the error of the last failure of either kind.
	Deferrals int
	LastError string
	FirstSeen time.Time
	WrittenAt time.Time
	// FetchedAt is when the fetch whose result was last committed began.
	FetchedAt time.Time
}

// Failing reports whether the session's last attempt failed, whatever the
// cause.
func (s Session) Failing() bool { return s.Failures > 0 || s.Deferrals > 0 }

const sessionColumns = `session_id, card_id, cursor, stored, written, updated_at, started_at, reopen_until, pending, done,
	failures, next_attempt_at, deferrals, last_error, first_seen_at, written_at, fetched_at`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var (
		s                                            Session
		written                                      string
		updated, started, next, firstSeen, writtenAt int64
		fetched, reopen                              int64
	)
	err := row.Scan(&s.ID, &s.CardID, &s.Cursor, &s.Stored, &written, &updated, &started, &reopen, &s.Pending, &s.Done,
		&s.Failures, &next, &s.Deferrals, &s.LastError, &firstSeen, &writtenAt, &fetched)
	if err != nil {
		return Session{}, err
	}
	if s.Written, err = decodeWritten(written); err != nil {
		return Session{}, fmt.Errorf("session %s: written values: %w", s.ID, err)
	}
	s.UpdatedAt, s.StartedAt, s.NextAttempt = fromUnixNano(updated), fromUnixNano(started), fromUnixNano(next)
	s.FirstSeen, s.WrittenAt, s.FetchedAt = fromUnixNano(firstSeen), fromUnixNano(writtenAt), fromUnixNano(fetched)
	s.ReopenUntil = fromUnixNano(reopen)
	return s, nil
}

// decodeWritten reads the written column: a JSON object of attribute
// codes to hashes, as json.Marshal wrote it. A pass reads it for every
// active session, so such a flat object of plain strings is read directly;
// anything else (an escape, spaces) goes through encoding/json.
func decodeWritten(s string) (map[string]string, error) {
	if m, ok := flatObject(s); ok {
		return m, nil
	}
	var m map[string]string
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// flatObject reads {"k":"v",...} without spaces or escapes; false for
// anything else.
func flatObject(s string) (map[string]string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	body := s[1 : len(s)-1]
	m := make(map[string]string, strings.Count(body, ",")+1)
	for body != "" {
		k, rest, ok := plainString(body)
		if !ok || rest == "" || rest[0] != ':' {
			return nil, false
		}
		v, rest, ok := plainString(rest[1:])
		if !ok {
			return nil, false
		}
		m[k] = v
		if rest == "" {
			break
		}
		if rest[0] != ',' || rest == "," {
			return nil, false
		}
		body = rest[1:]
	}
	return m, true
}

// plainString reads a JSON string without escapes at the start of s.
func plainString(s string) (string, string, bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	v := s[1 : 1+end]
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 {
			return "", "", false
		}
	}
	return v, s[2+end:], utf8.ValidString(v)
}

// Session returns the record of session id; ok is false when it is not
// tracked.
func (s *Store) Session(ctx context.Context, id string) (sess Session, ok bool, err error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE session_id = ?`, id)
	sess, err = scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, describe(err)
	}
	return sess, true, nil
}

// Sessions calls fn for every tracked session, ordered by id.
func (s *Store) Sessions(ctx context.Context, fn func(Session) error) error {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions ORDER BY session_id`, fn)
}

// OpenSessions calls fn for every tracked session whose inactive value is
// not yet written, ordered by id.
func (s *Store) OpenSessions(ctx context.Context, fn func(Session) error) error {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE done = 0 ORDER BY session_id`, fn)
}

// OpenSessionIDs calls fn with the id and card of every tracked session
// whose inactive value is not yet written, ordered by id: OpenSessions
// without the rest of each record, for a pass that only needs to know
// which sessions it tracks.
func (s *Store) OpenSessionIDs(ctx context.Context, fn func(id, cardID string) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT session_id, card_id FROM sessions WHERE done = 0 ORDER BY session_id`)
	if err != nil {
		return describe(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, card string
		if err := rows.Scan(&id, &card); err != nil {
			return describe(err)
		}
		if err := fn(id, card); err != nil {
			return err
		}
	}
	return describe(rows.Err())
}

func (s *Store) sessions(ctx context.Context, query string, fn func(Session) error) error {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return describe(err)
	}
	defer rows.Close()
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return err
		}
		if err := fn(sess); err != nil {
			return err
		}
	}
	return describe(rows.Err())
}

// Track starts tracking session id on card cardID, or moves a session
// already tracked to cardID. It never resets the message cursor, but
// nothing is known to be on a card the session has just moved to: the
// written values are forgotten, in the same transaction, so that the new
// card is written whole however often the first attempt fails. A card
// belongs to one session at a time; another session recorded on cardID
// loses it (and its written values) the same way.
func (s *Store) Track(ctx context.Context, id, cardID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET card_id = '', written = '{}', updated_at = 0, fetched_at = 0
			WHERE card_id = ? AND session_id <> ?`, cardID, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sessions (session_id, card_id, first_seen_at) VALUES (?, ?, ?)
			ON CONFLICT (session_id) DO UPDATE SET card_id = excluded.card_id,
				written = CASE WHEN card_id = excluded.card_id THEN written ELSE '{}' END,
				updated_at = CASE WHEN card_id = excluded.card_id THEN updated_at ELSE 0 END,
				fetched_at = CASE WHEN card_id = excluded.card_id THEN fetched_at ELSE 0 END`,
			id, cardID, unixNano(s.now()))
		return err
	})
}

// Messages returns the stored messages of session id in transcript order;
// each one's Seq is its position (increasing, from 1; files from before
// opaque cursors may have gaps).
func (s *Store) Messages(ctx context.Context, id string) ([]aggregate.Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM messages WHERE session_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var out []aggregate.Message
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		m, err := decodeMessage(body)
		if err != nil {
			return nil, fmt.Errorf("session %s: stored message: %w", id, err)
		}
		out = append(out, m)
	}
	return out, describe(rows.Err())
}

// Commit is what a pass learned about one session once ESM confirmed its
// write (or once it found there was nothing to write).
type Commit struct {
	ID string
	// NewMessages are appended to the stored transcript, each at the
	// position its Seq gives (1 is the first message of the session); a
	// position already stored is left as it is.
	NewMessages []aggregate.Message
	// Cursor is the adapter's cursor after NewMessages.
	Cursor string
	// ReopenUntil is the session's Session.ReopenableUntil while it is
	// ended but may be reopened; zero otherwise.
	ReopenUntil time.Time
	// Written replaces the hashes of the attributes it names.
	Written   map[string]string
	UpdatedAt time.Time
	StartedAt time.Time
	// FetchedAt is when the fetch that learned this began.
	FetchedAt time.Time
	// Done marks the inactive value as written: the stored transcript is
	// dropped and the session is never polled again.
	Done bool
}

// Commit records c in one transaction: the new messages, the cursor, the
// written values, and a cleared failure count.
func (s *Store) Commit(ctx context.Context, c Commit) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var written string
		err := tx.QueryRowContext(ctx, `SELECT written FROM sessions WHERE session_id = ?`, c.ID).Scan(&written)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("commit session %s: not tracked", c.ID)
		}
		if err != nil {
			return err
		}
		merged := map[string]string{}
		if err := json.Unmarshal([]byte(written), &merged); err != nil {
			return fmt.Errorf("session %s: written values: %w", c.ID, err)
		}
		for k, v := range c.Written {
			merged[k] = v
		}
		mergedJSON, _ := json.Marshal(merged)
		last, err := insertMessages(ctx, tx, c.ID, c.NewMessages)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET cursor = ?, stored = max(stored, ?), written = ?,
			updated_at = ?, started_at = ?, reopen_until = ?, done = ?, pending = 0, failures = 0, next_attempt_at = 0,
			deferrals = 0, last_error = '', written_at = ?, fetched_at = ? WHERE session_id = ?`,
			c.Cursor, last, string(mergedJSON), unixNano(c.UpdatedAt), unixNano(c.StartedAt), unixNano(c.ReopenUntil), c.Done,
			unixNano(s.now()), unixNano(c.FetchedAt), c.ID)
		if err != nil {
			return err
		}
		if c.Done {
			_, err = tx.ExecContext(ctx, `DELETE FROM messages WHERE session_id = ?`, c.ID)
		}
		return err
	})
}

// insertMessages stores msgs at their positions and returns the last one.
func insertMessages(ctx context.Context, tx *sql.Tx, id string, msgs []aggregate.Message) (int64, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (session_id, seq, body) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	var last int64
	for _, m := range msgs {
		if m.Seq < 1 {
			return 0, fmt.Errorf("session %s: message position %d", id, m.Seq)
		}
		body, err := encodeMessage(m)
		if err != nil {
			return 0, err
		}
		if _, err := stmt.ExecContext(ctx, id, m.Seq, body); err != nil {
			return 0, err
		}
		last = max(last, m.Seq)
	}
	return last, nil
}

// RecordFailure notes that a pass failed on session id: its failure count
// grows, and it is not tried again before next. It returns the new count.
func (s *Store) RecordFailure(ctx context.Context, id, msg string, next time.Time) (int, error) {
	var failures int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE sessions SET failures = failures + 1, next_attempt_at = ?, last_error = ?
			WHERE session_id = ? RETURNING failures`, unixNano(next), msg, id).Scan(&failures)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("record failure of session %s: not tracked", id)
	}
	return failures, err
}

// RecordDeferred notes that the API cut session id's attempt short: it is
// synced again next pass, with no back-off, and counted as failing (with
// msg as its last error) until an attempt goes through. It returns the
// number of deferrals in a row.
func (s *Store) RecordDeferred(ctx context.Context, id, msg string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE sessions SET pending = 1, deferrals = deferrals + 1, last_error = ?
			WHERE session_id = ? RETURNING deferrals`, msg, id).Scan(&n)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("record deferral of session %s: not tracked", id)
	}
	return n, err
}

// Drop stops tracking session id and forgets its transcript.
func (s *Store) Drop(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE session_id = ?`, id)
		return err
	})
}

// PruneClosed forgets sessions whose inactive value was written before
// before: their cards are inactive, so no pass asks about them again. It
// returns how many it forgot. Source cache rows last written before before
// go with them: an adapter looks up again what it still needs.
func (s *Store) PruneClosed(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE done = 1 AND written_at < ?`, unixNano(before))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM source_cache WHERE touched_at < ?`, unixNano(before)); err != nil {
			return err
		}
		// Events are kept as long: those of a chat whose card never
		// appeared, or that closed long ago, are of no more use.
		_, err = tx.ExecContext(ctx, `DELETE FROM source_events WHERE received_at < ?`, unixNano(before))
		return err
	})
	return int(n), err
}

// Counts summarises the tracked sessions for status output.
type Counts struct {
	Tracked, Active, Ended int
	// Failing counts sessions whose last attempt failed, for any reason;
	// BackingOff those of them that failed for a reason of their own and
	// wait out a back-off.
	Failing, BackingOff int
}

// Counts counts tracked sessions: active ones still polled, ended ones
// (inactive written), failing ones (see Session.Failing) and those backing
// off.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(done = 0), 0), coalesce(sum(done = 1), 0),
		coalesce(sum(failures > 0 OR deferrals > 0), 0), coalesce(sum(failures > 0), 0)
		FROM sessions`).Scan(&c.Tracked, &c.Active, &c.Ended, &c.Failing, &c.BackingOff)
	return c, describe(err)
}
