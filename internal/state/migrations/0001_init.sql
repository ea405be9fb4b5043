-- One row per chat session the worker tracks, with its cursor.
CREATE TABLE sessions (
	session_id      TEXT PRIMARY KEY,
	card_id         TEXT NOT NULL,
	last_seq        INTEGER NOT NULL DEFAULT 0,
	-- JSON object: attribute code -> hash of the values last written.
	written         TEXT NOT NULL DEFAULT '{}',
	-- The platform's updated_at when the card was last written.
	updated_at      INTEGER NOT NULL DEFAULT 0,
	-- 1 once the inactive value is written: never polled again.
	done            INTEGER NOT NULL DEFAULT 0,
	failures        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	first_seen_at   INTEGER NOT NULL,
	written_at      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Messages already fetched, so that a pass asks only for newer ones.
CREATE TABLE messages (
	session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	body       BLOB NOT NULL,
	PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

-- ESM Person cards by normalised email; card_id '' is "looked up, no
-- single match".
CREATE TABLE people (
	email      TEXT PRIMARY KEY,
	card_id    TEXT NOT NULL,
	checked_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0,
	sessions    INTEGER NOT NULL DEFAULT 0,
	written     INTEGER NOT NULL DEFAULT 0,
	unchanged   INTEGER NOT NULL DEFAULT 0,
	ended       INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
