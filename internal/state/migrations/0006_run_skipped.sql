-- Sessions a pass skipped (backing off, or closed), shown in status.
ALTER TABLE runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
