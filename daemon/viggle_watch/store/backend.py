"""The store's seam: the SQL both engines run, behind one small interface.

``JobStore``, ``AssetStore`` and ``HostStore`` hold the SQL (one state machine, one set of
transitions, one audit table); a ``Backend`` is where it runs: SQLite on one host (the
default) or PostgreSQL shared by several (docs/reliability.md §7). Statements use ``?`` placeholders
and the subset of SQL both engines speak (``ON CONFLICT``, ``RETURNING``); a backend
translates what it must and adds its row locks (``FOR UPDATE SKIP LOCKED``) where it has them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Cursor(Protocol):
    """What a statement returns: rows that index by position and by column name."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Conn(Protocol):
    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...


class Backend(Protocol):
    """One database the service's threads share; every method is one short transaction."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    @property
    def shared(self) -> bool:
        """True when several hosts may use it at once (leases, claims, a global budget)."""
        ...

    @property
    def host(self) -> str:
        """This service's name among the hosts; written into the rows it holds."""
        ...

    @property
    def skip_locked(self) -> str:
        """Appended to a claim's inner SELECT (empty where there are no row locks)."""
        ...

    def write(self) -> AbstractContextManager[Conn]:
        """One transaction that sees committed data and commits on exit (rolls back on error)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Group many ``write()``s into one commit (each stays all-or-nothing on its own)."""
        ...

    def read(self) -> AbstractContextManager[Conn]: ...

    def after_commit(self, call: Callable[[], None]) -> None:
        """Call ``call`` once the outermost open transaction has committed (never when it or
        the savepoint ``call`` was queued in rolls back); at once when none is open
        (``store.aftercommit``)."""
        ...

    def lock_budget(self, conn: Conn) -> None:
        """Serialize budget checks in this write transaction against every other host."""
        ...

    def claim_host(self) -> bool:
        """Hold this service's host name while it runs (on a shared store: one service per
        name); False when another service holds it."""
        ...

    def db_time(self) -> float:
        """The database server's clock, in epoch seconds (on one host: this host's clock);
        hosts of a shared store judge leases by it (``app.storeclock``)."""
        ...

    def describe(self) -> str:
        """Where the data lives, for people (no password)."""
        ...

    def close(self) -> None: ...
