"""The job store: the single source of truth (SQLite, WAL, synchronous=FULL)."""
