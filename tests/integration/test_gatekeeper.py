"""The gate over the store's flags (viggle_watch.app.gatekeeper): every tick asks it, so it
reads the store at most every HOLD_CACHE_S; a refusal seen by this host holds at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

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
