"""The other hosts' job changes on the event stream (issue 18; docs/web.md): on a shared store
each host's service tells its own changes (``notify.announce``); a host's ``/api/v1/events``
also shows what the others changed, read from the store's job history (``store.moves``) once
a second, as the same events (``notify.events.job_event``) with the host in ``data``.

The reading runs on a thread of its own, and only while at least one stream is open: a host
without an open stream, and a service on one host, pay nothing for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Final

import structlog

from viggle_watch.errors import ViggleWatchError
from viggle_watch.notify.events import Event, job_event, job_event_name
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.moves import Cursor, Move, MoveLog, advance
from viggle_watch.web.stream import Watch

log = structlog.get_logger()
POLL_S: Final = 1.0
RETRY_S: Final = 10.0  # after the store could not be read


def told(move: Move, own_host: str) -> bool:
    """Whether a row of the history is another host's change of state that has an event."""
    if move.host is None or move.host == own_host or not move.changed:
        return False
    return job_event_name(move.to_state) is not None


def other_host_event(move: Move, job: Job | None) -> Event | None:
    """The event ``move`` is told as: what its host told, from the job as it is now put in the
    state it entered then, at that time, with ``data.host`` naming the host."""
    if job is None:
        return None
    event = job_event(replace(job, state=move.to_state), move.at)
    if event is None:
        return None
    return replace(event, data={**event.data, "host": move.host})


def watch_both(first: Watch, second: Watch) -> Watch:
    """A watch that hands a watcher every event of ``first`` and of ``second``."""

    def watch(watcher: Callable[[Event], None]) -> Callable[[], None]:
        undo = (first(watcher), second(watcher))

        def unwatch() -> None:
            for one in undo:
                one()

        return unwatch

    return watch


class OtherHosts:
    """``watch`` hands each watcher the other hosts' job events; the first watcher starts the
    reading thread, the last one's ``unwatch`` ends it (neither waits)."""

    def __init__(
        self,
        open_db: Callable[[], Backend | None],
        *,
        poll_s: float = POLL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_db, self._poll_s, self._clock = open_db, poll_s, clock
        self._lock = threading.Lock()
        self._watchers: list[Callable[[Event], None]] = []
        self._stop: threading.Event | None = None  # the running thread's

    def watch(self, watcher: Callable[[Event], None]) -> Callable[[], None]:
        with self._lock:
            self._watchers.append(watcher)
            if self._stop is None:
                self._stop = threading.Event()
                threading.Thread(
                    target=self._run, args=(self._stop,), name="web-other-hosts", daemon=True
                ).start()

        def unwatch() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)
                if not self._watchers and self._stop is not None:
                    self._stop.set()
                    self._stop = None

        return unwatch

    def _run(self, stop: threading.Event) -> None:
        db: Backend | None = None
        cursor: Cursor | None = None
        try:
            while not stop.is_set():
                wait = self._poll_s
                try:
                    db = db or self._open_db()
                    if db is not None and cursor is not None:
                        cursor = self._read(db, cursor)
                    elif db is not None:  # from now on: what is in the store is not news
                        cursor = Cursor(MoveLog(db).top())
                        log.debug("other_hosts_followed", after=cursor.top)
                except ViggleWatchError as exc:  # the store is away: said, and tried again
                    log.warning("other_hosts_not_read", reason=str(exc))
                    wait = RETRY_S
                except Exception:  # a bug must not end the stream's other half silently
                    log.exception("other_hosts_not_read")
                    wait = RETRY_S
                stop.wait(wait)
        finally:
            if db is not None:
                db.close()

    def _read(self, db: Backend, cursor: Cursor) -> Cursor:
        moves = MoveLog(db).after(cursor)
        cursor, fresh = advance(cursor, [m.id for m in moves], self._clock())
        new, store = set(fresh), JobStore(db)
        for move in moves:
            if move.id in new and told(move, db.host):
                event = other_host_event(move, store.get(move.job_id))
                if event is not None:
                    self._hand_out(event)
        return cursor

    def _hand_out(self, event: Event) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:  # each only queues (a stream's own queue)
            watcher(event)
