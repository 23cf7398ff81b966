"""How far this host's clock is from the database's, and the service's clock corrected by it
(app.storeclock; issue 19 §4). Fake clocks and a fake database clock: plain numbers."""

from __future__ import annotations

import pytest

from viggle_watch.app.storeclock import StoreClock
from viggle_watch.clock import SAY_S, FakeClock, differs, measure, offset_from
from viggle_watch.errors import StoreUnavailableError


def test_the_offset_is_read_against_the_middle_of_the_request() -> None:
    assert offset_from(100.0, 130.5, 101.0) == 30.0  # the database is 30 s ahead
    assert offset_from(100.0, 70.5, 101.0) == -30.0
    reads = iter([10.0, 12.0])
    assert measure(lambda: 41.0, lambda: next(reads)) == 30.0


def test_a_difference_is_said_only_past_a_couple_of_seconds() -> None:
    assert differs(SAY_S) is None and differs(-SAY_S) is None
    assert differs(-30.0) == (
        "this host's clock is 30.0 s ahead of the store's database: leases and budgets use"
        " the database's time; set the host's clock right (NTP)"
    )
    assert "behind" in str(differs(5.0))


def test_the_corrected_clock_works_on_the_databases_time() -> None:
    ahead = FakeClock(start=1_000.0)  # this host's clock: 30 s ahead of the database's
    db_now = [970.0]
    clock = StoreClock(ahead, lambda: db_now[0])
    assert clock.time() == 1_000.0  # not measured yet
    clock.correct()
    assert clock.offset == -30.0 and clock.time() == 970.0
    ahead.advance(5.0)
    assert clock.time() == 975.0  # it runs with the host's clock between measures
    assert clock.now().timestamp() == 975.0


def test_a_store_that_cannot_be_asked_keeps_the_last_difference() -> None:
    clock = StoreClock(FakeClock(start=1_000.0), lambda: 990.0)
    clock.correct()

    def gone() -> float:
        raise StoreUnavailableError("lost the connection")

    clock._read = gone
    clock.correct()
    assert clock.offset == pytest.approx(-10.0)
