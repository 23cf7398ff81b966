"""Live events as Server-Sent Events (``GET /api/v1/events``; issue 18): every event the
service emits (``notify/events.py``, the one event type) as it happens, to each open stream.
The service's thread only queues (``call_soon_threadsafe``); a client that does not keep up
loses the oldest events, never slows the service. A comment every ``KEEPALIVE_S`` keeps
proxies from closing an idle stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Final

from fastapi import Request

from viggle_watch.notify.events import Event

KEEPALIVE_S: Final = 15.0
BACKLOG: Final = 1000  # events a slow client may fall behind before the oldest are dropped
Watch = Callable[[Callable[[Event], None]], Callable[[], None]]


def sse(event: Event) -> str:
    """One event in the SSE wire format (its id, its name, its JSON)."""
    return f"id: {event.id}\nevent: {event.name}\ndata: {json.dumps(event.as_json())}\n\n"


async def stream(request: Request, watch: Watch) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=BACKLOG)

    def offer(event: Event) -> None:  # on asyncio's loop
        if queue.full():
            queue.get_nowait()  # the oldest goes: the client is behind
        queue.put_nowait(event)

    def hand_over(event: Event) -> None:  # on the service's thread: only queue it
        loop.call_soon_threadsafe(offer, event)

    unwatch = watch(hand_over)
    try:
        yield ": viggle-watch events\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            yield sse(event)
    finally:
        unwatch()
