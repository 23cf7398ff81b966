"""The PostgreSQL backend: several hosts share one queue, one budget and one asset cache.

psycopg 3 is an optional extra (``pip install 'viggle-watch[postgres]'``). The SQL is the
stores' own (``?`` placeholders, written for both engines); this module translates the
placeholders, returns rows that index by name and position like ``sqlite3.Row``, migrates
under an advisory lock (two hosts may start at once), and serializes budget checks with a
transaction-scoped advisory lock. Claims add ``FOR UPDATE SKIP LOCKED`` (docs/reliability.md §7).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from enum import Enum
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from viggle_watch.errors import NoSchemaError, StoreError, StoreUnavailableError
from viggle_watch.redaction import redact_text
from viggle_watch.store.aftercommit import AfterCommit, run_all

if TYPE_CHECKING:
    import psycopg

PG_MIGRATIONS: Final = ("pg_001.sql", "pg_002.sql", "pg_003.sql", "pg_004.sql", "pg_005.sql")
MIGRATE_LOCK: Final = 0x76696767  # "vigg": one host migrates at a time
BUDGET_LOCK: Final = 0x62756467  # "budg": one budget check at a time, across hosts
HOST_LOCK: Final = 0x686F7374  # "host": with hashtext(name), one service per store.host
CONNECT_TIMEOUT_S: Final = 10


class Row(tuple[Any, ...]):
    """A row that reads by position (``row[0]``) and by column (``row["state"]``)."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {c.name: i for i, c in enumerate(cursor.description or [])}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, names)

    return make


_PLACEHOLDER: Final = re.compile(r"\?")


def translate(sql: str) -> str:
    """``?`` placeholders → ``%s`` (our SQL has no ``?`` or ``%`` inside literals)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def _param(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


class _Cursor:
    def __init__(self, cur: Any) -> None:
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())


class _Conn:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        cur = self._conn.execute(translate(sql), [_param(v) for v in parameters])
        return _Cursor(cur)


def describe_url(url: str) -> str:
    return redact_text(url)


class PostgresDatabase:
    """One connection per service behind a lock; statements autocommit, writes are txns."""

    dialect: Final = "postgresql"
    shared: Final = True
    skip_locked: Final = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, host: str) -> None:
        self._url = url
        self.host = host
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._host_conn: psycopg.Connection[Any] | None = None  # holds the host name's lock
        self._after = AfterCommit()  # what waits for the outermost commit

    @classmethod
    def open(cls, url: str, *, host: str, readonly: bool = False) -> PostgresDatabase:
        db = cls(url, host)
        try:
            with db._lock:
                db._connection()
                if not readonly:
                    db._migrate()
                elif db._version() != len(PG_MIGRATIONS):
                    raise NoSchemaError(
                        f"the job store at {db.describe()} has no viggle-watch schema yet: "
                        "has `viggle-watch run` been started?"
                    )
        except BaseException:
            db.close()  # a refused open must not leave its connection open
            raise
        return db

    def _connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        self._conn = self._connect()
        return self._conn

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            import psycopg  # an optional extra, needed only here
        except ImportError as exc:
            raise StoreError(
                "store.url names PostgreSQL, but psycopg is not installed: "
                "pip install 'viggle-watch[postgres]'"
            ) from exc
        try:
            return psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                row_factory=_row_factory,
                application_name=f"viggle-watch@{self.host}",
            )
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot connect to {self.describe()}: {redact_text(str(exc))}"
            ) from exc

    def db_time(self) -> float:
        with self.read() as conn:
            row = conn.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()
        return float(row[0])

    def claim_host(self) -> bool:
        """Hold this service's host name for the life of the process: a session advisory lock
        on a connection of its own, which the server lets go when the process dies. False when
        another service holds the name."""
        with self._lock:
            if self._host_conn is None:
                conn = self._connect()
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [HOST_LOCK, self.host]
                ).fetchone()
                if row is None or not row[0]:
                    conn.close()
                    return False
                self._host_conn = conn
            return True

    def _version(self) -> int:
        conn = self._connection()
        row = conn.execute("SELECT to_regclass('viggle_schema') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return 0
        found = conn.execute("SELECT MAX(version) FROM viggle_schema").fetchone()
        return int(found[0] or 0) if found else 0

    def _migrate(self) -> None:
        folder = resources.files("viggle_watch.store") / "sql"
        conn = self._connection()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATE_LOCK])
            conn.execute(
                "CREATE TABLE IF NOT EXISTS viggle_schema"
                " (version INTEGER PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            version = self._version()
            if version > len(PG_MIGRATIONS):
                raise StoreError(
                    f"the job store at {self.describe()} is from a newer viggle-watch ({version})"
                )
            for number, name in enumerate(PG_MIGRATIONS[version:], start=version + 1):
                conn.execute(folder.joinpath(name).read_text(encoding="utf-8"))
                conn.execute("INSERT INTO viggle_schema (version) VALUES (%s)", [number])

    @contextmanager
    def _session(self, *, transaction: bool) -> Iterator[_Conn]:
        """The connection under the lock, optionally in a transaction (nested: a savepoint).
        A dropped connection is a StoreError, also when psycopg ended the block quietly.
        What waits for the commit (``after_commit``) runs once the outermost transaction has
        committed, outside the lock."""
        ready: list[Callable[[], None]] = []
        with self._lock:
            conn = self._connection()
            committed = False
            if transaction:
                self._after.begin()
            try:
                if transaction:
                    with conn.transaction():
                        yield _Conn(conn)
                else:
                    yield _Conn(conn)
                committed = not conn.broken
            except Exception as exc:
                self._lost(exc)
                raise
            finally:
                if transaction:
                    ready = self._after.end(committed=committed)
            if conn.broken:
                self._lost(ConnectionError("the connection broke during the transaction"))
        run_all(ready)

    def after_commit(self, call: Callable[[], None]) -> None:
        with self._lock:
            if self._after.add(call):
                return
        call()

    def write(self) -> AbstractContextManager[_Conn]:
        return self._session(transaction=True)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one commit; each ``write()`` inside is a savepoint of it."""
        with self._session(transaction=True):
            yield

    def read(self) -> AbstractContextManager[_Conn]:
        return self._session(transaction=False)

    def _lost(self, exc: Exception) -> None:
        """A dropped connection is a StoreError (the tick fails, the next one reconnects)."""
        if isinstance(exc, ConnectionError) or _is_connection_error(exc):
            if self._conn is not None and self._conn.broken:
                self._conn.close()
                self._conn = None
            raise StoreUnavailableError(
                f"lost the connection to {self.describe()}: {redact_text(str(exc))}"
            ) from exc

    def lock_budget(self, conn: Any) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (BUDGET_LOCK,))

    def describe(self) -> str:
        return f"PostgreSQL {describe_url(self._url)}"

    def close(self) -> None:
        with self._lock:
            for conn in (self._conn, self._host_conn):
                if conn is not None:
                    conn.close()
            self._conn = self._host_conn = None


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.OperationalError)
