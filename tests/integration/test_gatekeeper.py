"""The gate over the store's flags (viggle_watch.app.gatekeeper): every tick asks it, so it
reads the store at most every HOLD_CACHE_S; a refusal seen by this host holds at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from structlog.testing import capture_logs

from viggle_watch.app.gatekeeper import HOLD_CACHE_S, Gatekeeper
from viggle_watch.clock import FakeClock
from viggle_watch.store.flags import Flag, FlagStore
from viggle_watch.store.sqlite import Database


def test_a_pause_from_elsewhere_holds_within_the_cache_time(tmp_path: Path) -> None:
    """Raised by another process: not seen for HOLD_CACHE_S, then seen; lowered likewise."""
    db = Database.open(tmp_path / "state.db")
    clock = FakeClock()
    flags = FlagStore(db)
    gate = Gatekeeper(flags, cast(Any, None), clock=clock.time)
    try:
        seen = [gate.holding()]
        flags.raise_flag(Flag.PAUSED, "lunch", now=clock.time())
        seen.append(gate.holding())  # within the cache time: not yet
        clock.advance(HOLD_CACHE_S)
        seen.append(gate.holding())
        gate.key_refused("401 bad key", clock.time())  # this host's own refusal: at once
        seen.append(gate.holding())
        raised = [r.flag for r in flags.raised()]
    finally:
        db.close()
    assert (seen, raised) == (
        [None, None, "paused: lunch", "paused: lunch"],
        [Flag.PAUSED, Flag.KEY_REFUSED],
    )


def test_the_log_says_when_new_paid_work_is_held_and_let_go(tmp_path: Path) -> None:
    """A `pause` (from this or any host) is said once when the service sees it, and once when
    it is lifted: a new user saw nothing in the service's log."""
    db = Database.open(tmp_path / "state.db")
    clock = FakeClock()
    flags = FlagStore(db)
    gate = Gatekeeper(flags, cast(Any, None), clock=clock.time)
    try:
        with capture_logs() as logs:
            gate.holding()
            flags.raise_flag(Flag.PAUSED, "lunch", now=clock.time())
            for _ in range(3):  # every tick asks; it is said once
                clock.advance(HOLD_CACHE_S)
                gate.holding()
            flags.lower(Flag.PAUSED)
            clock.advance(HOLD_CACHE_S)
            gate.holding()
    finally:
        db.close()
    said = [(e["event"], e.get("reason")) for e in logs]
    assert said == [("submissions_held", "paused: lunch"), ("submissions_released", None)]
