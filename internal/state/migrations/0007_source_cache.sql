-- A small key/value cache the chat platform adapters keep lookups and
-- per-session facts in (SuperOffice's Associate emails, a session's first
-- agent). touched_at is the last write; PruneClosed drops rows untouched
-- for as long as it keeps closed sessions.
CREATE TABLE source_cache (
	namespace  TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	touched_at INTEGER NOT NULL,
	PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
