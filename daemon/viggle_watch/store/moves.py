"""Every job's history read in order, as it grows: how a host learns what the other hosts of a
shared store changed (the web's event stream; docs/scaling-out.md).

Ids are handed out when a row is inserted, not when its transaction commits: on PostgreSQL two
hosts' rows may become visible out of order (id 7 after id 8). So the reader keeps a
``Cursor``: the highest id read, and the ids below it not seen yet (``holes``), asked for again
until they appear or ``HOLE_WAIT_S`` has passed (a transaction rolled back: its id never
comes). ``advance`` is pure; ``MoveLog`` is one indexed query on ``job_events.id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from viggle_watch.store.backend import Backend
from viggle_watch.store.states import State

HOLE_WAIT_S: Final = 30.0  # longer than any write transaction of ours holds its id
MAX_HOLES: Final = 200  # past that (ids jumped), the oldest are given up
PAGE: Final = 500  # rows read at a time


@dataclass(frozen=True, slots=True)
class Move:
    """A row of a job's history: a change of state, an enqueue, or a note (same state)."""

    id: int
    job_id: int
    at: float
    from_state: State | None
    to_state: State
    host: str | None  # who wrote it (None: before schema 7)

    @property
    def changed(self) -> bool:
        """A change of state (a note, or a take-over, leaves the state as it was)."""
        return self.from_state != self.to_state


@dataclass(frozen=True, slots=True)
class Cursor:
    top: int  # the highest id read
    holes: Mapping[int, float] = field(default_factory=dict)  # ids below top not seen: since


def advance(cursor: Cursor, ids: Sequence[int], now: float) -> tuple[Cursor, list[int]]:
    """The cursor after reading ``ids`` at ``now``, and those of them new to it (in order)."""
    got = set(ids)
    fresh = sorted(i for i in got if i > cursor.top or i in cursor.holes)
    top = max(cursor.top, *got) if got else cursor.top
    holes = {
        i: since for i, since in cursor.holes.items() if i not in got and now - since < HOLE_WAIT_S
    }
    holes.update({i: now for i in range(max(cursor.top + 1, top - MAX_HOLES), top) if i not in got})
    kept = sorted(holes)[-MAX_HOLES:]
    return Cursor(top, {i: holes[i] for i in kept}), fresh


class MoveLog:
    def __init__(self, db: Backend) -> None:
        self._db = db

    def top(self) -> int:
        """The highest id of the history so far (0: none): where a reader starts."""
        with self._db.read() as conn:
            row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM job_events").fetchone()
        return int(row[0])

    def after(self, cursor: Cursor, limit: int = PAGE) -> list[Move]:
        """The rows above ``cursor.top`` and those of its holes that have appeared, by id."""
        holes = sorted(cursor.holes)
        among = f" OR id IN ({', '.join('?' for _ in holes)})" if holes else ""
        # only placeholders are put in: the values go as parameters
        sql = (
            "SELECT id, job_id, at, from_state, to_state, host FROM job_events"  # noqa: S608
            f" WHERE id > ?{among} ORDER BY id LIMIT ?"
        )
        with self._db.read() as conn:
            rows = conn.execute(sql, (cursor.top, *holes, limit)).fetchall()
        return [
            Move(
                int(r[0]),
                int(r[1]),
                float(r[2]),
                State(r[3]) if r[3] else None,
                State(r[4]),
                r[5],
            )
            for r in rows
        ]
