-- schema version 2: preprocessed mode, budgets, transparent results. See docs/reliability.md §1-§3.
ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'on_demand';
ALTER TABLE jobs ADD COLUMN estimate_credits REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN assets_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE jobs ADD COLUMN mask_url TEXT;
ALTER TABLE jobs ADD COLUMN mask_path TEXT;
ALTER TABLE jobs ADD COLUMN mask_sha256 TEXT;
ALTER TABLE jobs ADD COLUMN mask_size INTEGER;
ALTER TABLE jobs ADD COLUMN render_started_at REAL;
ALTER TABLE assets ADD COLUMN updated_at REAL NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN job_id INTEGER;
ALTER TABLE assets ADD COLUMN detail TEXT NOT NULL DEFAULT '';
-- scenes: the seconds of output a render with them makes
ALTER TABLE assets ADD COLUMN duration_s REAL;

-- credits committed per UTC day: a row is written with the submitting intent, in the same
-- transaction, and removed only when the request provably was not acted on
CREATE TABLE IF NOT EXISTS spend (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    day     TEXT    NOT NULL,
    job_id  INTEGER,
    kind    TEXT    NOT NULL,   -- 'render' | 'character'
    credits REAL    NOT NULL,
    at      REAL    NOT NULL,
    asset_key TEXT              -- 'character:<sha256>' for a character's preprocess
);
CREATE INDEX IF NOT EXISTS spend_day ON spend (day);
