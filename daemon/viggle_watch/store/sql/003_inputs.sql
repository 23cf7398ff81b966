-- schema version 3: rule priorities, jobs made from several files (pairs, job folders), and
-- inputs that stay in place (read-only shares) remembered by content.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS job_sources (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    path   TEXT    NOT NULL,
    PRIMARY KEY (job_id, path)
);
CREATE INDEX IF NOT EXISTS job_sources_path ON job_sources (path);
INSERT OR IGNORE INTO job_sources (job_id, path) SELECT id, source_path FROM jobs;
CREATE TABLE IF NOT EXISTS seen_files (
    rule     TEXT    NOT NULL,
    path     TEXT    NOT NULL,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256   TEXT    NOT NULL,
    at       REAL    NOT NULL,
    PRIMARY KEY (rule, path)
);
