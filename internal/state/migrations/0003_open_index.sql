-- Passes look only at sessions still open; closed ones pile up until pruned.
CREATE INDEX sessions_open ON sessions (done, session_id);
