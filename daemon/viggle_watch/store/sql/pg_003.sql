-- PostgreSQL version 3 (SQLite schema 6): what Viggle charged for a render, beside the estimate.
-- charged_credits is NULL when it is not known; charged_how says how it was learned, or why not.
-- balance_before is the account balance read before the POST while no other paid request was
-- in flight; it is cleared when another paid request starts, so a difference is never a guess.
-- render_age_s is how long a render has run while the service watched it (render_timeout
-- counts that, not downtime or a clock that jumped); polled_at is its last poll.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS charged_credits DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS charged_how TEXT;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS balance_before DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS render_age_s DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS polled_at DOUBLE PRECISION;
-- the store's identity: written at creation into the database and into each host's
-- STATE_DIR/store-id, so that a store that existed is never silently recreated
CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
