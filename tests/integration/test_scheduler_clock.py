"""In-process timers and a wall clock that jumps (issue 14 §11): APScheduler schedules by the
wall clock, so an hour back would stall every tick for an hour. The scheduler watches the wall
clock against the monotonic one and, on a jump, makes every tick due at once."""

from __future__ import annotations

import threading

from tests.support.waits import wait_for
from viggle_watch.app.scheduler import JUMP_S, TickScheduler, jumped


def test_a_jump_is_told_from_a_slew() -> None:
    assert not jumped(100.0, 100.0 + JUMP_S / 4)  # NTP slews by milliseconds
    assert jumped(100.0, 100.0 - 3600)  # an hour back
    assert jumped(100.0, 100.0 + 3600)  # an hour forward


def test_after_a_jump_every_tick_is_due_at_once() -> None:
    ran = threading.Event()
    scheduler = TickScheduler()
    scheduler.add("hourly", ran.set, 3600, first_after_s=3600)  # as if an hour were left
    scheduler.start()
    try:
        assert not ran.wait(0.5)
        scheduler.realign()  # what the clock watch does on a jump
        wait_for(ran.is_set, timeout_s=10)
    finally:
        scheduler.shutdown()
