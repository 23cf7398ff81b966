"""The service's clock on a shared store: this host's clock corrected by its difference from
the database's (issue 19 §4; docs/scaling-out.md). Leases, heartbeats and take-overs compare
times written by different hosts; judged by each host's own clock, a host whose clock runs 30 s
ahead takes over the jobs of a live host with a 10 s lease. Every host measures how far its
clock is from the database server's and works on the database's time, so all of them share
one clock; the difference is measured at start and at each heartbeat (a clock stepped by NTP
is followed), and said when it is more than ``SAY_S``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from viggle_watch.clock import Clock, differs, measure
from viggle_watch.errors import StoreError

log = structlog.get_logger()


class StoreClock:
    """``inner`` plus the last measured difference from the database's clock."""

    def __init__(self, inner: Clock, read_db_time: Callable[[], float]) -> None:
        self._inner, self._read = inner, read_db_time
        self.offset = 0.0
        self._said: str | None = None

    def time(self) -> float:
        return self._inner.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def correct(self) -> None:
        """Measure again (at start, at each heartbeat); a store that cannot be asked now
        leaves the last difference in place."""
        try:
            self.offset = measure(self._read, self._inner.time)
        except StoreError as exc:
            log.warning("store_clock_not_measured", reason=str(exc))
            return
        words = differs(self.offset)
        if words is not None and words != self._said:
            log.warning("clock_differs_from_store", offset_s=round(self.offset, 1), hint=words)
        self._said = words
