"""The only APScheduler import: runs the service's ticks on their intervals, one at a time each."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = structlog.get_logger()
Tick = Callable[[], object]
CLOCK_CHECK_S: Final = 1.0
JUMP_S: Final = 2.0  # a step of the wall clock this large is a jump, not a slew


class TickScheduler:
    """Each tick runs on its interval, never overlapping itself; a crash is logged, not fatal."""

    def __init__(self, workers: int = 4) -> None:
        self._scheduler: Any = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._watch_the_clock, name="clock", daemon=True)

    def add(self, name: str, tick: Tick, interval_s: float, *, first_after_s: float = 0.0) -> None:
        def guarded() -> None:
            try:
                tick()
            except Exception:  # the next run carries on: every tick reads its work from the store
                log.exception("tick_failed", tick=name)

        # first run at once (or after first_after_s), then every interval_s
        self._scheduler.add_job(
            guarded,
            "interval",
            seconds=interval_s,
            id=name,
            name=name,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_after_s),
        )

    def start(self) -> None:
        self._scheduler.start()
        self._watch.start()

    def realign(self) -> None:
        """Every tick due now, and the scheduler woken: after the wall clock jumped, APScheduler
        (which schedules by the wall clock) would otherwise sleep until the clock caught up —
        an hour back stalled every tick for an hour (issue 14 §11). Ticks read their work from
        the store, so one extra run of each is harmless."""
        if self._stopping.is_set():
            return
        now = datetime.now(UTC)
        for job in self._scheduler.get_jobs():
            job.modify(next_run_time=now)
        self._scheduler.wakeup()

    def shutdown(self) -> None:
        """Stop scheduling and wait for running ticks (an in-flight POST finishes)."""
        self._stopping.set()
        self._scheduler.shutdown(wait=True)

    def _watch_the_clock(self) -> None:
        """Compare the wall clock with the monotonic one every second (a monotonic sleep)."""
        offset = time.time() - time.monotonic()
        while not self._stopping.wait(CLOCK_CHECK_S):
            now = time.time() - time.monotonic()
            if jumped(offset, now):
                log.warning("wall_clock_jumped", by_s=round(now - offset, 1))
                try:
                    self.realign()
                except Exception:  # this watch must outlive a scheduler shutting down
                    log.exception("realign_failed")
            offset = now


def jumped(before: float, now: float) -> bool:
    """Pure: whether the wall clock moved against the monotonic one (``time.time() -
    time.monotonic()`` at two moments) by more than NTP's slewing ever does."""
    return abs(now - before) > JUMP_S
