"""The SQLite backend: WAL, synchronous=FULL, one writer, migrations by user_version."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Final

from viggle_watch.errors import StoreError, StoreUnavailableError
from viggle_watch.statedir import keep_private, make_state_dir
from viggle_watch.store.aftercommit import AfterCommit, run_all

SCHEMA_VERSION: Final = 8
MIGRATIONS: Final = (
    "schema.sql",
    "002_money.sql",
    "003_inputs.sql",
    "004_hosts.sql",
    "005_flags.sql",
    "006_charged.sql",
    "007_event_host.sql",
    "008_host_identity.sql",
)
BUSY_TIMEOUT_MS: Final = 10_000
MIN_SQLITE: Final = (3, 35, 0)


def _migrations() -> list[str]:
    """Scripts that bring the schema from version i to i + 1, in order."""
    folder = resources.files("viggle_watch.store") / "sql"
    return [folder.joinpath(name).read_text(encoding="utf-8") for name in MIGRATIONS]


def default_host() -> str:
    return socket.gethostname() or "localhost"


class Database:
    """One connection shared by the service's threads behind a lock (one writer, short txns)."""

    dialect: Final = "sqlite"
    shared: Final = False  # one host: BEGIN IMMEDIATE already serializes every writer
    skip_locked: Final = ""

    def __init__(self, conn: sqlite3.Connection, path: Path, host: str) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self.host = host
        self._after = AfterCommit()  # what waits for the outermost commit

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False, host: str | None = None) -> Database:
        """Open (and for writers create and migrate) the database at ``path``."""
        if sqlite3.sqlite_version_info < MIN_SQLITE:  # RETURNING, upserts
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old for the job store; "
                f"{'.'.join(map(str, MIN_SQLITE))} or newer is needed"
            )
        if readonly and not path.exists():
            raise StoreError(f"no job store at {path} yet: has `viggle-watch run` been started?")
        new = not readonly and not path.exists()
        if not readonly:
            make_state_dir(path.parent)
        try:
            conn = sqlite3.connect(
                path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            if new:
                keep_private(path)  # before any row: WAL and SHM files take its mode
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
            # FULL: with NORMAL a committed intent can vanish on power loss (docs/reliability.md §1)
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the job store {path}: {exc}") from exc
        db = cls(conn, path, host or default_host())
        version = db.user_version()
        if readonly:
            if version != SCHEMA_VERSION:
                upgrade = " (start `viggle-watch run` once to upgrade it)" * (
                    version < SCHEMA_VERSION
                )
                raise StoreError(
                    f"job store {path} has schema {version}; expected {SCHEMA_VERSION}{upgrade}"
                )
        else:
            db._migrate(version)
        return db

    def user_version(self) -> int:
        row = self._conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self, version: int) -> None:
        scripts = _migrations()
        if version > len(scripts):
            raise StoreError(f"job store {self.path} is from a newer viggle-watch ({version})")
        if version == len(scripts):
            return
        # every step in one transaction: a reader sees the old schema or the new, never half
        with self.write() as conn:
            for script in scripts[version:]:
                for statement in script.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {len(scripts)}")

    @contextmanager
    def _store_errors(self) -> Iterator[None]:
        """Any SQLite error (locked past the busy timeout, disk full, a damaged file) is the
        store's trouble, never the caller's input: a ``StoreError`` the work is retried on."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"the job store {self.path}: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE … COMMIT`` transaction; rolled back on any exception.

        Inside another ``write()`` (or ``batch()``) it is a savepoint of that transaction
        instead. What waits for the commit (``after_commit``) runs once the outermost
        transaction has committed, outside the lock."""
        ready: list[Callable[[], None]] = []
        with self._lock, self._store_errors():
            nested = self._conn.in_transaction
            self._conn.execute("SAVEPOINT write" if nested else "BEGIN IMMEDIATE")
            self._after.begin()
            try:
                yield self._conn
                self._conn.execute("RELEASE write" if nested else "COMMIT")
            except BaseException:
                self._after.end(committed=False)
                if nested:
                    self._conn.execute("ROLLBACK TO write")
                    self._conn.execute("RELEASE write")
                elif self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            ready = self._after.end(committed=True)
        run_all(ready)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one commit (one fsync): for a burst of small ones, e.g. a bulk drop."""
        with self.write():
            yield

    def after_commit(self, call: Callable[[], None]) -> None:
        with self._lock:
            if self._after.add(call):
                return
        call()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._store_errors():
            yield self._conn

    def lock_budget(self, conn: object) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` holds the only write lock there is."""

    def claim_host(self) -> bool:
        """One host: the state directory's lock (``app.lock``) already makes it the only one."""
        return True

    def db_time(self) -> float:
        """One host: its own clock is the only one."""
        return time.time()

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def close(self) -> None:
        with self._lock:
            self._conn.close()
