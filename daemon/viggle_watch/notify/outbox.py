"""Where events go (issue 17; docs/notifications.md): each ``notify`` target has a lane of its
own — a queue and a thread — so a target that fails, hangs or is slow never delays a render,
the service, or another target. ``emit`` only queues. Each lane filters the events its target
wants, gathers ``done`` into digests and holds back repeats (``notify.flood``), sends, and
counts what was delivered and what failed (metrics, and ``status`` through a small file in the
state directory). Target URLs are never logged: a target is named by its number and scheme.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import structlog

from viggle_watch.config.notify import NotifyTarget, ServiceWebhook
from viggle_watch.notify.events import Event
from viggle_watch.notify.flood import Flood, Message, Send
from viggle_watch.notify.metrics import Metrics
from viggle_watch.notify.posting import HttpSession, webhook_sender
from viggle_watch.notify.tally import STATUS_FILE
from viggle_watch.outputs.atomic import write_bytes_atomic
from viggle_watch.reading import read_regular
from viggle_watch.redaction import register_secret

log = structlog.get_logger()
STOP_DRAIN_S: Final = 5.0


def target_url(target: NotifyTarget) -> str:
    """The target's URL: given, or read from ``url_file`` (a line; the rest ignored)."""
    if target.url is not None:
        return target.url.get_secret_value().strip()
    assert target.url_file is not None
    text = read_regular(target.url_file, 64 * 1024, follow_links=True).decode("utf-8", "replace")
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def target_label(index: int, target: NotifyTarget) -> str:
    """``notify[0] discord`` — a name for logs and ``status`` that carries no token."""
    if target.url_file is not None:
        return f"notify[{index}] ({target.url_file.name})"
    url = target.url.get_secret_value() if target.url is not None else ""
    return f"notify[{index}] {url.split(':', 1)[0]}"


def wants(events: Sequence[str], rules: Sequence[str] | None, event: Event) -> bool:
    """Whether a target is sent ``event``: one of its ``events``, and of its ``rules`` if it
    names some (service-wide events have no rule and reach every target that wants them)."""
    if event.name not in events:
        return False
    return rules is None or event.rule is None or event.rule in rules


@dataclass(slots=True)
class Tally:
    sent: int = 0
    failed: int = 0
    last_error: str | None = None
    last_error_at: float | None = None


class Lane:
    """One target's queue and thread."""

    def __init__(
        self,
        label: str,
        wanted: Callable[[Event], bool],
        flood: Flood,
        send: Send,
        clock: Callable[[], float],
        events: Sequence[str] = (),
    ) -> None:
        self.label, self.wants, self._send, self._clock = label, wanted, send, clock
        self.flood = flood
        self.events = list(events)  # what it was configured for (check-config shows it)
        self.tally = Tally()
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name=f"notify-{label}", daemon=True)
        self.on_change: Callable[[], None] = lambda: None
        self.on_result: Callable[[str, bool], None] = lambda label, sent: None

    def start(self) -> None:
        self._thread.start()

    def put(self, event: Event) -> None:
        self._queue.put(event)

    def send_now(self, event: Event) -> str | None:
        """Send ``event`` at once, on the caller's thread (`notify test`): None, or why not."""
        return self._send(Message(event.title, event.body, event.level, event.name, event))

    def stop(self, timeout_s: float) -> None:
        """Send what is queued and the digest gathered so far, for up to ``timeout_s``."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _work(self) -> None:
        while True:
            due = self.flood.next_due()
            wait = None if due is None else max(0.0, due - self._clock())
            try:
                event = self._queue.get(timeout=wait)
            except queue.Empty:
                self._deliver(self.flood.due(self._clock()))
                continue
            if event is None:
                self._deliver(self.flood.due(self._clock(), flush=True))
                return
            self._deliver(self.flood.offer(event, self._clock()))

    def _deliver(self, messages: list[Message]) -> None:
        for message in messages:
            try:
                error = self._send(message)
            except Exception as exc:  # a sender's bug must not end the lane
                error = f"{type(exc).__name__}: {exc}"
            self.on_result(self.label, error is None)
            if error is None:
                self.tally.sent += 1
                log.info("notification_sent", target=self.label, kind=message.event)
            else:
                self.tally.failed += 1
                self.tally.last_error, self.tally.last_error_at = error, self._clock()
                log.warning(
                    "notification_failed", target=self.label, kind=message.event, reason=error
                )
            self.on_change()


class Outbox:
    """Every lane; ``emit`` queues an event for each target that wants it, and returns."""

    def __init__(self, lanes: Sequence[Lane], state_dir: Path | None = None) -> None:
        self.lanes = list(lanes)
        self._state_dir = state_dir
        self._lock = threading.Lock()  # the status file's
        self._watch_lock = threading.Lock()  # the live streams': emit never waits on a write
        self.on_event: Callable[[str], None] = lambda name: None  # the metrics
        self._watchers: list[Callable[[Event], None]] = []  # live streams (the web's SSE)
        for lane in self.lanes:
            lane.on_change = self._write_status

    def count_with(self, metrics: Metrics) -> None:
        """Count every event, and what each target came to, in ``metrics``."""
        self.on_event = metrics.event
        for lane in self.lanes:
            lane.on_result = lambda label, sent: metrics.notification(label, sent=sent)

    def start(self) -> None:
        for lane in self.lanes:
            lane.start()

    def emit(self, event: Event | None) -> None:
        if event is None:
            return
        self.on_event(event.name)
        for lane in self.lanes:
            if lane.wants(event):
                lane.put(event)
        with self._watch_lock:
            watchers = list(self._watchers)
        for watcher in watchers:  # each only queues (a live stream's own queue)
            watcher(event)

    def watch(self, watcher: Callable[[Event], None]) -> Callable[[], None]:
        """Also hand every event to ``watcher`` (it must not block); returns the unwatch."""
        with self._watch_lock:
            self._watchers.append(watcher)

        def unwatch() -> None:
            with self._watch_lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return unwatch

    def stop(self, timeout_s: float = STOP_DRAIN_S) -> None:
        for lane in self.lanes:
            lane.stop(timeout_s)

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "target": lane.label,
                "sent": lane.tally.sent,
                "failed": lane.tally.failed,
                "last_error": lane.tally.last_error,
                "last_error_at": lane.tally.last_error_at,
            }
            for lane in self.lanes
        ]

    def _write_status(self) -> None:
        if self._state_dir is None:
            return
        with self._lock:
            try:
                data = (json.dumps(self.status(), indent=2) + "\n").encode()
                write_bytes_atomic(self._state_dir / STATUS_FILE, data, mode=0o640)
            except OSError as exc:
                log.warning("notify_status_not_written", reason=exc.strerror)


def build_outbox(
    targets: Sequence[NotifyTarget],
    clock: Callable[[], float],
    *,
    webhooks: Sequence[ServiceWebhook] = (),
    session: Callable[[], HttpSession] | None = None,
    state_dir: Path | None = None,
    sender: Callable[[str], Send] | None = None,
) -> Outbox:
    """A lane per ``notify`` target and per service webhook (none: an outbox that drops
    everything). ``sender`` makes a target's sender from its URL (Apprise's by default; a
    missing Apprise is a ``ConfigError``); each webhook is posted with a ``session()`` of its
    own (never the Viggle client's)."""
    if sender is None and targets:
        from viggle_watch.notify.apprise_send import apprise_sender

        sender = apprise_sender
    lanes = []
    for hook in webhooks:
        register_secret(hook.url)  # a URL may carry a token in its path: never in a log
    for i, t in enumerate(targets):
        assert sender is not None
        lanes.append(
            Lane(
                target_label(i, t),
                partial(wants, t.events, t.rules),
                Flood(t.digest, t.repeat),
                sender(_secret(target_url(t))),
                clock,
                t.events,
            )
        )
    for i, hook in enumerate(webhooks):
        assert session is not None, "service webhooks need a session"
        lanes.append(
            Lane(
                f"webhooks[{i}] {_scheme_and_host(hook.url)}",
                partial(wants, hook.events, None),
                Flood(None, 0.0),  # every event, as it happens: a pipeline dedups by its id
                webhook_sender(hook, session()),
                clock,
                hook.events,
            )
        )
    return Outbox(lanes, state_dir)


def _secret(url: str) -> str:
    """``url``, registered as a secret: its tokens never reach a log line."""
    register_secret(url)
    return url


def _scheme_and_host(url: str) -> str:
    """``https://hooks.example.com`` — a webhook's name without its path, query or user."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
