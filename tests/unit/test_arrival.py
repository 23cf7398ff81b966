"""Tests for viggle_watch.intake.arrival: how long a file that looks cut off may wait."""

from __future__ import annotations

from pathlib import Path

from viggle_watch.intake.arrival import Arrivals
from viggle_watch.intake.checks import Problem

CUT = Problem("unreadable", "The PNG file is damaged or incomplete.", {})
SMALL = Problem("image_too_small", "The image is 16x16 pixels.", {})
FILE = Path("/in/alice.png")


def test_a_cut_off_file_waits_its_grace_then_is_filed() -> None:
    """Held while young; still held at 59 s; filed at 60 s with the same size and mtime."""
    arrivals = Arrivals(60.0)
    seen = [arrivals.holds(FILE, CUT, (100, 1), at) for at in (0.0, 59.0, 60.0)]
    assert (seen, FILE in arrivals) == ([True, True, False], False)


def test_a_file_that_changes_starts_its_grace_again() -> None:
    """More bytes arrived (a new size): it waits a whole grace from then."""
    arrivals = Arrivals(60.0)
    arrivals.holds(FILE, CUT, (100, 1), 0.0)
    later = [arrivals.holds(FILE, CUT, (200, 2), at) for at in (50.0, 100.0, 110.0)]
    assert later == [True, True, False]


def test_other_problems_and_no_grace_are_filed_at_once() -> None:
    """Too small is not a matter of waiting; with grace 0 nothing waits."""
    assert (
        Arrivals(60.0).holds(FILE, SMALL, (1, 1), 0.0),
        Arrivals(0.0).holds(FILE, CUT, (1, 1), 0.0),
    ) == (
        False,
        False,
    )


def test_due_names_each_file_once_when_its_grace_is_over() -> None:
    """The intake settles a due file once more; it is not named again after that."""
    arrivals = Arrivals(60.0)
    arrivals.holds(FILE, CUT, (100, 1), 0.0)
    assert (arrivals.due(30.0), arrivals.due(61.0), arrivals.due(90.0)) == ([], [FILE], [])


def test_waiting_holds_the_settle_tick_until_the_file_is_named_due() -> None:
    """The service's settle loop sleeps while nothing waits; a file in its grace waits on the
    clock alone, so it counts until `due` has handed it back to be settled."""
    arrivals = Arrivals(60.0)
    before = arrivals.waiting()
    arrivals.holds(FILE, CUT, (100, 1), 0.0)
    during = arrivals.waiting()
    arrivals.due(61.0)
    assert (before, during, arrivals.waiting()) == (False, True, False)
