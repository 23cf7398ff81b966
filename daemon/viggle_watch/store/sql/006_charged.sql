-- schema version 6: what Viggle charged for a render, beside the estimate (docs/reliability.md §3).
-- charged_credits is NULL when it is not known; charged_how says how it was learned, or why not.
-- balance_before is the account balance read before the POST while no other paid request was
-- in flight; it is cleared when another paid request starts, so a difference is never a guess.
-- render_age_s is how long a render has run while the service watched it (render_timeout
-- counts that, not downtime or a clock that jumped); polled_at is its last poll.
ALTER TABLE jobs ADD COLUMN charged_credits REAL;
ALTER TABLE jobs ADD COLUMN charged_how TEXT;
ALTER TABLE jobs ADD COLUMN balance_before REAL;
ALTER TABLE jobs ADD COLUMN render_age_s REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN polled_at REAL;
-- the store's identity: written at creation into the database and into STATE_DIR/store-id, so
-- that a store that existed is never silently recreated (an empty state.db would pay for every
-- render in flight again): docs/reliability.md §1
CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
