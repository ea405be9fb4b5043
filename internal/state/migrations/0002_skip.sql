-- The session's started_at, so that expiry is noticed without fetching it,
-- and a flag for sessions that must be synced next pass whatever the
-- platform's listing says (their last attempt was cut short by the API).
ALTER TABLE sessions ADD COLUMN started_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
