"""Time as a parameter: every component takes a ``Clock`` so tests can step it by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, Protocol


class Clock(Protocol):
    """Wall time as tz-aware UTC and as epoch seconds."""

    def now(self) -> datetime: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._t = start

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def time(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        self._t += seconds


def iso(ts: float) -> str:
    """Epoch seconds as an ISO-8601 UTC string with milliseconds."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def day_of(ts: float) -> str:
    """The UTC calendar day of ``ts``; daily caps reset at 00:00 UTC."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


# On a shared store every host works on the database's time (app.storeclock): these measure
# how far a clock is from it, for the service and for `status` and `check-config`.
SAY_S: Final = 2.0  # a difference larger than this is told (status, check-config, the log)


def offset_from(sent: float, db_time: float, answered: float) -> float:
    """How far the database's clock is ahead of ours: its reading against the middle of our
    request (half the round trip each way)."""
    return db_time - (sent + answered) / 2


def measure(read_db_time: Callable[[], float], local: Callable[[], float]) -> float:
    sent = local()
    db_time = read_db_time()
    return offset_from(sent, db_time, local())


def differs(offset: float) -> str | None:
    """Words for a clock that differs from the database's by more than ``SAY_S`` (else None)."""
    if abs(offset) <= SAY_S:
        return None
    way = "behind" if offset > 0 else "ahead of"
    return (
        f"this host's clock is {abs(offset):.1f} s {way} the store's database: leases and"
        " budgets use the database's time; set the host's clock right (NTP)"
    )


def local_offset(read_db_time: Callable[[], float]) -> float:
    """The difference of this host's own clock from the database's."""
    return measure(read_db_time, time.time)
