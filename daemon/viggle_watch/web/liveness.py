"""What keeps the dashboard live (issue 18; docs/web.md#the-dashboard): ``GET /ui/changes``, a
Server-Sent Events stream that says ``changed`` whenever anything a page shows may have moved,
and the page's parts fetch themselves again (htmx). Two sources, because not every change is an
event a person is told about: the service's events as they happen (``notify``: a pause, a
finished render), and the store's own marker — its newest history row and its flags — read
every ``POLL_S`` while a page is open (a job queued or moved on by any host of a shared store,
a pause from the CLI). With no page open nothing is read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Final

from fastapi import Request

from viggle_watch.store.backend import Backend
from viggle_watch.web.stream import KEEPALIVE_S, Watch

POLL_S: Final = 0.5
GAP_S: Final = 0.25  # at most one `changed` this often: a burst of changes is one refresh
CHANGED: Final = "event: changed\ndata: {}\n\n"


def marker(db: Backend) -> Hashable:
    """What moves whenever a job or a flag does: the newest history row, the flags raised."""
    with db.read() as conn:
        newest = conn.execute("SELECT MAX(id) FROM job_events").fetchone()
        flags = conn.execute("SELECT name, at FROM flags ORDER BY name").fetchall()
    return (newest[0] if newest else None, tuple(tuple(f) for f in flags))


async def changes(
    request: Request, watch: Watch, read: Callable[[], Hashable], poll_s: float = POLL_S
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    told = asyncio.Event()

    def tell(_event: object) -> None:  # on the service's thread: only hand it over
        loop.call_soon_threadsafe(told.set)

    unwatch = watch(tell)
    try:
        last = await asyncio.to_thread(read)
        quiet, sent = 0.0, 0.0
        yield ": viggle-watch changes\n\n"
        while not await request.is_disconnected():
            try:
                await asyncio.wait_for(told.wait(), timeout=poll_s)
                told.clear()
                moved = True
            except TimeoutError:
                now = await asyncio.to_thread(read)
                moved, last = now != last, now
            if moved:  # the page fetches after this: it sees every change made before it
                await asyncio.sleep(max(0.0, sent + GAP_S - loop.time()))
                told.clear()
                quiet, sent = 0.0, loop.time()
                yield CHANGED
                continue
            quiet += poll_s
            if quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keepalive\n\n"
    finally:
        unwatch()
