-- viggle-watch job store, schema version 1. See docs/reliability.md §1.
CREATE TABLE IF NOT EXISTS jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rule            TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    -- rule + input content hashes + scene key + model + options: one row per distinct render
    dedup_key       TEXT    NOT NULL UNIQUE,
    source_path     TEXT    NOT NULL,   -- the dropped file that made this job
    request_json    TEXT    NOT NULL,   -- inputs (paths, sha256, sizes), model, options, output name
    model           TEXT    NOT NULL,
    viggle_job_id   TEXT,
    progress_pct    REAL,
    checkpoint      TEXT,
    result_url      TEXT,               -- signed CDN URL; never logged unredacted
    output_path     TEXT,
    output_sha256   TEXT,
    output_size     INTEGER,
    error_code      TEXT,
    error_message   TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL DEFAULT 0,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS jobs_source ON jobs (source_path);

-- the audit log: one row per transition, written in the same transaction
CREATE TABLE IF NOT EXISTS job_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER NOT NULL REFERENCES jobs (id),
    at         REAL    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id, id);

-- content hash -> Viggle character / scene id (used by preprocessed mode)
CREATE TABLE IF NOT EXISTS assets (
    kind       TEXT NOT NULL,   -- 'character' | 'scene' | 'template'
    asset_key  TEXT NOT NULL,   -- sha256, or sha256 + model, or template id + model
    viggle_id  TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (kind, asset_key)
);
