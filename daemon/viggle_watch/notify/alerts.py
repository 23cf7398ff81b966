"""The service-wide events noticed by looking (issue 17): the day's spending crossing 80 % and
100 % of the daily cap (once each a day), a pause set or lifted and the API key refused or
accepted again — by anyone, on any host, since they live in the store's flags — each told once
when it changes. The decisions are pure functions; ``Alerts.look`` is the thin I/O around them,
run on a timer by the service."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

import structlog

from viggle_watch.clock import day_of
from viggle_watch.notify.events import Event, service_event
from viggle_watch.store.flags import Flag, FlagStore, Raised
from viggle_watch.store.jobs import JobStore

log = structlog.get_logger()
BUDGET_MARKS: Final = (80, 100)  # per cent of the daily cap


def budget_marks(spent: float, cap: float | None, told: Iterable[int]) -> list[int]:
    """The marks (per cent of ``cap``) that ``spent`` has reached and that were not told yet."""
    if not cap:
        return []
    return [m for m in BUDGET_MARKS if spent >= cap * m / 100 and m not in set(told)]


def flag_changes(
    before: dict[str, Raised] | None, now_raised: list[Raised]
) -> tuple[list[Raised], list[str]]:
    """The flags raised since ``before`` and the names of those lowered (None: the first look
    takes every raised flag as new)."""
    after = {str(r.flag): r for r in now_raised}
    seen = before or {}
    raised = [r for name, r in after.items() if name not in seen]
    lowered = sorted(seen.keys() - after.keys()) if before is not None else []
    return raised, lowered


def flag_events(
    before: dict[str, Raised] | None, now_raised: list[Raised], at: float
) -> list[Event]:
    """What changed in the flags since ``before``, as events to tell."""
    return change_events(*flag_changes(before, now_raised), at)


def change_events(up: list[Raised], down: list[str], at: float) -> list[Event]:
    """The flags raised (``up``) and lowered (``down``), as events to tell."""
    events = []
    for raised in up:
        if raised.flag == Flag.PAUSED:
            title = "Submissions paused"
            body = (
                f"New renders wait: {raised.reason} (host {raised.host}). Polls and downloads"
                " go on. `viggle-watch resume` lifts it."
            )
            events.append(service_event("paused", title, body, at, key="paused"))
        else:
            title = "Viggle refused the API key"
            body = (
                f"Every new paid step is held: {raised.reason}. Fix the key; it is checked"
                " again every 5 minutes, and submissions resume once it passes."
            )
            events.append(service_event("key_refused", title, body, at, key="key_refused"))
    for name in down:
        what = "the pause was lifted" if name == Flag.PAUSED else "the API key is accepted"
        events.append(service_event("resumed", "Submissions resumed", f"{what.capitalize()}.", at))
    return events


def say_pause(up: list[Raised], down: list[str]) -> None:
    """The service's log, when it sees a pause (from any host) raised or lifted; a refused key
    has its own lines (``submissions_paused``, ``api_key_accepted``, by the gatekeeper)."""
    for raised in up:
        if raised.flag == Flag.PAUSED:
            log.warning(
                "submissions_held",
                reason=raised.reason,
                host=raised.host,
                hint="polls and downloads go on; `viggle-watch resume` lets new work go",
            )
    if Flag.PAUSED in down:
        log.info("submissions_released", hint="new paid work goes on")


class Alerts:
    """Looks every few seconds, whether or not anyone listens: hands what changed to ``emit``
    (a no-op without notify targets or the web's event stream), and logs a pause."""

    def __init__(self, emit: Callable[[Event], None], store: JobStore, flags: FlagStore) -> None:
        self._emit, self._store, self._flags = emit, store, flags
        self._flags_seen: dict[str, Raised] | None = None
        self._told: dict[str, set[int]] = {}  # day → budget marks told that day

    def look(self, now: float, daily_cap: float | None) -> None:
        raised = self._flags.raised()
        up, down = flag_changes(self._flags_seen, raised)
        say_pause(up, down)
        for event in change_events(up, down, now):
            self._emit(event)
        self._flags_seen = {str(r.flag): r for r in raised}
        day, cap = day_of(now), daily_cap
        spent = self._store.spent_on(day)
        told = self._told.setdefault(day, set())
        for mark in budget_marks(spent, cap, told):
            told.add(mark)
            words = "reached" if mark == 100 else "passed 80 % of"
            self._emit(
                service_event(
                    "budget",
                    f"Daily budget {words} its cap" if mark == 100 else "80 % of the daily budget",
                    f"{spent:g} of {cap:g} credits committed today ({day}, UTC)."
                    + (" New renders wait for tomorrow." if mark == 100 else ""),
                    now,
                    key=f"budget:{day}:{mark}",
                )
            )
