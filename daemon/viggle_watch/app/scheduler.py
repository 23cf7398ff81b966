"""The only APScheduler import: runs the service's ticks on their intervals, one at a time each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = structlog.get_logger()
Tick = Callable[[], object]


class TickScheduler:
    """Each tick runs on its interval, never overlapping itself; a crash is logged, not fatal."""

    def __init__(self, workers: int = 4) -> None:
        self._scheduler: Any = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

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

    def shutdown(self) -> None:
        """Stop scheduling and wait for running ticks (an in-flight POST finishes)."""
        self._scheduler.shutdown(wait=True)
