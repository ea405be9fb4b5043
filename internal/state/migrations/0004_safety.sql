-- deferrals counts attempts in a row that an API cut short, so that status
-- shows them as failing although they are not backed off.
ALTER TABLE sessions ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;
-- When the fetch whose result was last committed began: a session is
-- skipped only when the platform's updated_at is safely older than it.
ALTER TABLE sessions ADD COLUMN fetched_at INTEGER NOT NULL DEFAULT 0;
-- A card id belongs to one session at a time.
CREATE INDEX sessions_card ON sessions (card_id);
-- A pass stopped by a signal before it was complete.
ALTER TABLE runs ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
