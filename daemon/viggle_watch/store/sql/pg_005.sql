-- PostgreSQL version 5 (SQLite schema 8, issue 19): one live process per host name. Each host's
-- heartbeat row names the process holding the name (its pid space and machine, besides
-- instance and pid), so a second service under a name still held is refused and a restart
-- after a crash is not; the last conflict over the name is kept for `status`. A dead host's
-- input claims are found by host when the survivor lets go of them.
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS machine TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS node TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS conflict TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS conflict_at DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS input_claims_host ON input_claims (host, at);
