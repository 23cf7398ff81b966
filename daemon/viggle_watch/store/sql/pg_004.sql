-- PostgreSQL version 4 (SQLite schema 7): which host wrote each row of a job's history. A
-- host's event stream (GET /api/v1/events) also tells what the other hosts changed, read from
-- here (docs/scaling-out.md); rows written before this version have no host.
ALTER TABLE job_events ADD COLUMN IF NOT EXISTS host TEXT
