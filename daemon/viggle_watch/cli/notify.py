"""`viggle-watch notify test [--event E]`: a sample of each configured event, sent now to each
notify target and service webhook, and what each answered (docs/notifications.md)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape

from viggle_watch.app.clients import hook_session
from viggle_watch.config import Config
from viggle_watch.config.notify import EVENT_NAMES
from viggle_watch.errors import ViggleWatchError
from viggle_watch.notify.events import sample
from viggle_watch.notify.outbox import build_outbox


def run_notify_test(config: Config, *, event: str | None, console: Console) -> int:
    if event is not None and event not in EVENT_NAMES:
        raise ViggleWatchError(f"--event {event!r}: one of {', '.join(EVENT_NAMES)}")
    outbox = build_outbox(config.notify, time.time, webhooks=config.webhooks, session=hook_session)
    if not outbox.lanes:
        raise ViggleWatchError("no notify targets or webhooks in the config: nothing to test")
    failures = 0
    for lane in outbox.lanes:
        for name in EVENT_NAMES:
            test = sample(name, time.time())
            if (event is not None and name != event) or not lane.wants(test):
                continue
            error = lane.send_now(test)
            failures += error is not None
            said = "[green]delivered[/green]" if error is None else f"[red]{escape(error)}[/red]"
            console.print(f"{escape(lane.label)} {name}: {said}")
    return 1 if failures else 0
