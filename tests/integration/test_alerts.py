"""Service-wide events noticed by looking (issue 17): the day's spending crossing 80 % and 100 %
of the daily cap, once each a day; a pause set and lifted, the key refused and accepted again
(in the store's flags: set by any process), each told once. The pure decisions, then
``Alerts.look`` over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from viggle_watch.clock import day_of
from viggle_watch.notify.alerts import Alerts, budget_marks, flag_events
from viggle_watch.notify.events import Event
from viggle_watch.store.flags import Flag, FlagStore, Raised
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.records import Spend, insert_spend
from viggle_watch.store.sqlite import Database

T0 = 1_700_000_000.0


def test_budget_marks_are_told_once_each() -> None:
    assert budget_marks(79, 100, set()) == []
    assert budget_marks(80, 100, set()) == [80]
    assert budget_marks(100, 100, {80}) == [100]
    assert budget_marks(130, 100, set()) == [80, 100]
    assert budget_marks(130, 100, {80, 100}) == []
    assert budget_marks(10_000, None, set()) == []  # no cap: nothing to tell


def test_flag_changes_are_events() -> None:
    paused = Raised(Flag.PAUSED, "editing session", "render-01", T0)
    refused = Raised(Flag.KEY_REFUSED, "401 Unauthorized", "render-01", T0)
    first = flag_events(None, [paused], T0)
    assert [(e.name, e.title) for e in first] == [("paused", "Submissions paused")]
    assert "editing session" in first[0].body and "viggle-watch resume" in first[0].body
    assert flag_events({"paused": paused}, [paused], T0) == []
    both = flag_events({"paused": paused}, [paused, refused], T0)
    assert [e.name for e in both] == ["key_refused"]
    lifted = flag_events({"paused": paused, "key_refused": refused}, [refused], T0)
    assert [(e.name, e.body) for e in lifted] == [("resumed", "The pause was lifted.")]
    assert flag_events(None, [], T0) == []  # nothing raised at start: nothing to tell


def test_alerts_look_at_the_store(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "state.db")
    try:
        told: list[Event] = []
        flags, store = FlagStore(db), JobStore(db)
        alerts = Alerts(told.append, store, flags)
        alerts.look(T0, daily_cap=10)
        assert told == []
        with db.write() as conn:
            insert_spend(conn, None, Spend("render", 8, day_of(T0)), T0)
        flags.raise_flag(Flag.PAUSED, "paused by a person", now=T0)  # as `viggle-watch pause`
        alerts.look(T0 + 10, daily_cap=10)
        assert sorted(e.name for e in told) == ["budget", "paused"]
        budget = next(e for e in told if e.name == "budget")
        assert budget.title == "80 % of the daily budget" and "8 of 10 credits" in budget.body
        told.clear()
        alerts.look(T0 + 20, daily_cap=10)
        assert told == []  # nothing changed: nothing told again
        with db.write() as conn:
            insert_spend(conn, None, Spend("render", 2, day_of(T0)), T0)
        flags.lower(Flag.PAUSED)
        alerts.look(T0 + 30, daily_cap=10)
        assert [(e.name, e.title) for e in told] == [
            ("resumed", "Submissions resumed"),
            ("budget", "Daily budget reached its cap"),
        ]
    finally:
        db.close()


def test_a_folder_gone_and_back_are_two_problems_each_told_once(tmp_path: Path) -> None:
    from viggle_watch.notify.events import folder_event
    from viggle_watch.notify.flood import Flood

    flood = Flood(digest_s=None, repeat_s=3600)
    gone, back = folder_event(tmp_path, T0, back=False), folder_event(tmp_path, T0 + 5, back=True)
    assert gone.title == f"Watch folder missing: {tmp_path}" and "not mounted" in gone.body
    assert back.title == f"Watch folder back: {tmp_path}"
    assert len(flood.offer(gone, T0)) == 1 and len(flood.offer(back, T0 + 5)) == 1
    assert flood.offer(folder_event(tmp_path, T0 + 60, back=False), T0 + 60) == []  # flapping
