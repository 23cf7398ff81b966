"""The hooks' harness (``tests/integration/test_hooks.py``, ``test_hook_commands.py``): a
webhook receiver on 127.0.0.1 answering as scripted (``receiver``), a started runner over a real
job store whose retries never really sleep (``hook_rig``), and a queued job to fire hooks for.
The store is ``tests.support.store``'s ``store``; the HTTP session, ``session``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from tests.support.store import make_spec
from viggle_watch.config.kinds import Hook, Webhook
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.store.jobs import Job, JobStore

T0 = 1_700_000_000.0


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver: answers each POST with the next scripted status (then the last)."""

    url: str
    statuses: list[int]
    got: list[Received] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    gate: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _handler(receiver: Callable[[], Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            me = receiver()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            me.got.append(Received(self.path, dict(self.headers.items()), body))
            me.gate.wait(10)
            self.send_response(me.answer())
            for name, value in me.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on what was received instead."""

    return Handler


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A single-threaded HTTP receiver on 127.0.0.1; answers 200 unless told otherwise."""
    holder: list[Receiver] = []
    server = HTTPServer(("127.0.0.1", 0), _handler(lambda: holder[0]))
    me = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", [200])
    me.gate.set()
    holder.append(me)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield me
    finally:
        me.gate.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver (``receiving``) for one test."""
    with receiving() as me:
        yield me


def make_job(store: JobStore, key: str = "k1") -> Job:
    """A job in the store, as the rules engine would have queued it."""
    job_id = store.enqueue(make_spec(), dedup_key=key, source_path="/in/hero.png", at=T0)
    assert job_id is not None
    job = store.get(job_id)
    assert job is not None
    return job


@dataclass
class Rig:
    """A runner over a real store with a recording sleep; ``drain`` stops it and waits."""

    runner: HookRunner
    store: JobStore
    slept: list[float]

    def drain(self) -> None:
        assert self.runner.stop(5.0) is True

    def notes(self, job: Job) -> list[str]:
        """The hook notes in the job's history."""
        return [e.detail for e in self.store.events(job.id) if e.detail.startswith("hook ")]


@pytest.fixture
def hook_rig(store: JobStore, session: requests.Session) -> Iterator[Rig]:
    """A started runner; stopped at the end even if the test failed."""
    slept: list[float] = []
    runner = HookRunner(
        store, session, clock=lambda: T0 + 100, sleep=slept.append, command_timeout_s=2.0
    )
    runner.start()
    yield Rig(runner, store, slept)
    runner.stop(5.0)


def webhook(url: str, **overrides: Any) -> Hook:
    return Hook(webhook=Webhook(url=url, **overrides))
