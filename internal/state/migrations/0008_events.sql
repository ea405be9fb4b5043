-- Events a chat platform pushed (CCAI Platform's chat events), stored
-- before the receiver answers 202 and applied when the session is synced.
-- id is the arrival order (ties of event_at), digest makes a repeated event
-- a no-op. received_at drives the change listing and pruning.
CREATE TABLE source_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	namespace   TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	event_at    INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	digest      TEXT NOT NULL,
	body        BLOB NOT NULL,
	UNIQUE (namespace, session_id, digest)
);
CREATE INDEX source_events_received ON source_events (namespace, received_at);
