-- schema version 7: which host wrote each row of a job's history. On a shared store a host's
-- event stream (GET /api/v1/events) also tells what the other hosts changed, read from here
-- (docs/scaling-out.md); rows written before this version have no host.
ALTER TABLE job_events ADD COLUMN host TEXT
