"""What was measured of a file, kept between processes: the check's verdict (an image decoded,
a video probed) and the content hash, by the file's identity.

The identity is (path, device, inode, size, mtime, ctime): any write to the file, or a rename
over it, changes its ctime, which no user can set, so a remembered fact is never used for other
bytes. The service writes what its intake measured and ``plan`` reads it (and adds what it
measured itself), so a plan of files already seen decodes nothing (issue 13 §9: a video probe
costs a child process, ~0.15 s).

It is a cache, in its own file beside the job store (``state_dir/file-facts.db``, local to the
host even when the job store is shared: paths are this host's): deleting it loses nothing, a
newer viggle-watch starts it afresh, and when it cannot be opened or written (a read-only state
directory, a full disk) everything is measured as if it were empty.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Final

import structlog

from viggle_watch import __version__
from viggle_watch.statedir import keep_private

log = structlog.get_logger()
FILE_NAME: Final = "file-facts.db"
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS facts (path TEXT NOT NULL, what TEXT NOT NULL,"
    " identity TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (path, what))"
)
Identity = str


def identity_of(st: os.stat_result) -> Identity:
    """The file's identity: changes whenever its bytes may have."""
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


class Remembered:
    """Facts by (path, what) for one identity of the file; one per process, thread-safe."""

    def __init__(self, conn: sqlite3.Connection | None) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    @classmethod
    def nothing(cls) -> Remembered:
        """Remembers nothing (no state directory, or tests of the measuring itself)."""
        return cls(None)

    @classmethod
    def open(cls, state_dir: Path) -> Remembered:
        """The cache in ``state_dir``; an empty, forgetful one when it cannot be used."""
        path = state_dir / FILE_NAME
        try:
            if not state_dir.is_dir():
                return cls.nothing()  # a state directory is made by `run`, never by a reader
            new = not path.exists()
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=1)
            if new:
                keep_private(path)  # paths of inputs: not for every user of the machine
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")  # a cache: losing the tail loses nothing
            conn.execute(_SCHEMA)
            conn.execute("CREATE TABLE IF NOT EXISTS meta (version TEXT NOT NULL)")
            row = conn.execute("SELECT version FROM meta").fetchone()
            if row is None or row[0] != __version__:  # another version may measure otherwise
                conn.execute("DELETE FROM facts")
                conn.execute("DELETE FROM meta")
                conn.execute("INSERT INTO meta (version) VALUES (?)", (__version__,))
        except (sqlite3.Error, OSError) as exc:
            log.info("file_facts_unavailable", path=str(path), error=str(exc))
            return cls.nothing()
        return cls(conn)

    def get(self, path: Path, what: str, identity: Identity) -> object | None:
        """The fact remembered for this identity of ``path``, or None."""
        if self._conn is None:
            return None
        try:
            with self._lock:
                row = self._conn.execute(
                    "SELECT identity, value FROM facts WHERE path = ? AND what = ?",
                    (str(path), what),
                ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or row[0] != identity:
            return None
        value: object = json.loads(row[1])
        return value

    def put(self, path: Path, what: str, identity: Identity, value: object) -> None:
        if self._conn is None:
            return
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT INTO facts (path, what, identity, value) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (path, what) DO UPDATE SET"
                    " identity = excluded.identity, value = excluded.value",
                    (str(path), what, identity, json.dumps(value)),
                )
        except sqlite3.Error as exc:
            log.info("file_facts_not_written", error=str(exc))
            self.close()  # full or read-only: measure from now on, do not retry every file

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
