"""Service-wide events noticed by looking (issue 17): the day's spending crossing 80 % and 100 %
of the daily cap, once each a day; a pause set and lifted, the key refused and accepted again
(in the store's flags: set by any process), each told once. The pure decisions, then
``Alerts.look`` over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
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


def test_a_pause_is_logged_when_seen_and_when_lifted_even_under_a_refused_key(
    tmp_path: Path,
) -> None:
    """The service's log says `submissions_held` when it sees a pause (from any host) and
    `submissions_released` when it is lifted — also while the key stands refused (that has its
    own lines), and with no listener for the events."""
    db = Database.open(tmp_path / "state.db")
    flags = FlagStore(db)
    alerts = Alerts(lambda _event: None, JobStore(db), flags)
    try:
        with capture_logs() as logs:
            flags.raise_flag(Flag.KEY_REFUSED, "401 Unauthorized", now=T0)
            alerts.look(T0, None)
            flags.raise_flag(Flag.PAUSED, "lunch", now=T0 + 1)
            for at in (T0 + 10, T0 + 20):  # looked at again: said once
                alerts.look(at, None)
            flags.lower(Flag.KEY_REFUSED)
            alerts.look(T0 + 30, None)
            flags.lower(Flag.PAUSED)
            alerts.look(T0 + 40, None)
    finally:
        db.close()
    said = [(e["event"], e.get("reason")) for e in logs]
    assert said == [("submissions_held", "lunch"), ("submissions_released", None)]


def test_a_service_with_no_one_listening_still_logs_a_pause(make_config: MakeConfig) -> None:
    """No notify targets, no web, nothing queued: a service started while paused says so (the
    flags were looked at only for listeners, and the gate only when work was queued)."""
    service = build_service(make_config("http://127.0.0.1:9"), ApiKey(KEY), tick_interval_s=0.2)
    FlagStore(service.db).raise_flag(Flag.PAUSED, "new key on Monday", now=T0)
    with capture_logs() as logs:
        service.start()
        try:
            wait_for(lambda: any(e["event"] == "submissions_held" for e in logs), timeout_s=30)
        finally:
            service.stop()
    held = [e for e in logs if e["event"] == "submissions_held"]
    assert [(e["reason"], e["log_level"]) for e in held] == [("new key on Monday", "warning")]
