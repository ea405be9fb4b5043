-- The message cursor is opaque, owned by the chat platform's adapter: the
-- generic platform's last seq becomes its decimal string.
-- The stored transcript is numbered by position; stored is the last one.
ALTER TABLE sessions ADD COLUMN cursor TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN stored INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET cursor = CAST(last_seq AS TEXT), stored = last_seq WHERE last_seq > 0;
ALTER TABLE sessions DROP COLUMN last_seq;
-- An ended session the customer may still reopen (SuperOffice's Finished):
-- not final before this time.
ALTER TABLE sessions ADD COLUMN reopen_until INTEGER NOT NULL DEFAULT 0;
-- Watermarks are per source: the generic platform's was the only one.
UPDATE meta SET key = 'watermark:generic' WHERE key = 'watermark';
