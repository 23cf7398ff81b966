-- schema version 4: several hosts on one queue (docs/reliability.md §7). A job is held by the host
-- that works on it (owner) until lease_until; heartbeats extend the lease, and a silent
-- host's jobs are taken over: rendering/downloading resumed, submitting made uncertain.
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, state);
CREATE TABLE IF NOT EXISTS hosts (
    name       TEXT PRIMARY KEY,
    instance   TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at REAL NOT NULL,
    seen_at    REAL NOT NULL
);
-- a settled input is handled by exactly one host: the first to claim its path
CREATE TABLE IF NOT EXISTS input_claims (
    path     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    host     TEXT NOT NULL,
    at       REAL NOT NULL
);
-- the API request rate, counted across hosts: a token bucket per name
CREATE TABLE IF NOT EXISTS rate_buckets (
    name   TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at     REAL NOT NULL
);
