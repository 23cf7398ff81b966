"""Hooks end to end: webhooks to a receiver on 127.0.0.1, commands run with sys.executable, and
every outcome noted in a real SQLite job store. Retries never really sleep."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from structlog.testing import capture_logs

from viggle_watch.config.kinds import Hook, Webhook
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.store.jobs import InputRef, Job, JobSpec, JobStore
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State

T0 = 1_700_000_000.0
SIDECAR = {"schema_version": 1, "job": {"id": 1, "rule": "dance", "state": "done"}}


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A single-threaded HTTP receiver on 127.0.0.1; answers 200 unless told otherwise."""
    holder: list[Receiver] = []
    server = HTTPServer(("127.0.0.1", 0), _handler(lambda: holder[0]))
    me = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", [200])
    me.gate.set()
    holder.append(me)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield me
    me.gate.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    """A real job store in ``tmp_path``, closed after the test."""
    db = Database.open(tmp_path / "state.db")
    yield JobStore(db)
    db.close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A plain HTTP session, as service.py gives the runner."""
    with requests.Session() as s:
        yield s


def make_job(store: JobStore, key: str = "k1") -> Job:
    """A job in the store, as the rules engine would have queued it."""
    spec = JobSpec(
        rule="dance",
        character=InputRef("character", "/in/hero.png", "a" * 64, 1234),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 56789),
        model="V4_Preview",
        output_name="hero__dance",
    )
    job_id = store.enqueue(spec, dedup_key=key, source_path="/in/hero.png", at=T0)
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
def rig(store: JobStore, session: requests.Session) -> Iterator[Rig]:
    """A started runner; stopped at the end even if the test failed."""
    slept: list[float] = []
    runner = HookRunner(
        store, session, clock=lambda: T0 + 100, sleep=slept.append, command_timeout_s=2.0
    )
    runner.start()
    yield Rig(runner, store, slept)
    runner.stop(5.0)


def sidecar_file(tmp_path: Path, doc: dict[str, Any] | None = None) -> Path:
    """A sidecar JSON file as the downloader writes it."""
    path = tmp_path / "hero__dance.json"
    path.write_text(json.dumps(doc or SIDECAR, indent=2) + "\n", encoding="utf-8")
    return path


def webhook(url: str, **overrides: Any) -> Hook:
    return Hook(webhook=Webhook(url=url, **overrides))


# --- webhooks -------------------------------------------------------------------------------


def test_receiver_gets_the_sidecar_once_with_headers(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """The sidecar file's bytes are POSTed once, with event, delivery id and JSON type."""
    job, sidecar = make_job(rig.store), sidecar_file(tmp_path)
    rig.runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=sidecar, body=None)
    rig.drain()
    [got] = receiver.got
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert (got.path, got.body, json.loads(got.body)) == ("/hook", sidecar.read_bytes(), SIDECAR)
    assert (
        headers["content-type"],
        headers["x-viggle-watch-event"],
        headers["x-viggle-watch-delivery"],
        "x-viggle-watch-signature" in headers,
        "authorization" in headers,
    ) == ("application/json", "done", f"{job.id}-done", False, False)
    assert rig.notes(job) == ["hook on_done webhook: delivered (1 attempt)"]


def test_two_failures_then_success_is_delivered_on_the_third_attempt(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """500, 500, 200: three POSTs with one delivery id, backoff 1 s then 2 s, one note."""
    receiver.statuses = [500, 500, 200]
    job = make_job(rig.store)
    hook = webhook(receiver.url, attempts=5)
    rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    rig.drain()
    ids = [r.headers["X-Viggle-Watch-Delivery"] for r in receiver.got]
    assert (ids, rig.slept) == ([f"{job.id}-done"] * 3, [1.0, 2.0])
    assert rig.notes(job) == ["hook on_done webhook: delivered (3 attempts)"]


def test_a_receiver_that_always_fails_is_given_up_after_attempts(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """503 every time: ``attempts`` POSTs, a failure note, and the job's state is untouched."""
    receiver.statuses = [503]
    job = make_job(rig.store)
    hook = webhook(receiver.url, attempts=3)
    rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    rig.drain()
    after = rig.store.get(job.id)
    assert (len(receiver.got), rig.slept) == (3, [1.0, 2.0])
    assert rig.notes(job) == ["hook on_done webhook: failed after 3 attempts: HTTP 503"]
    assert after is not None and after.state == job.state == State.QUEUED


def test_the_signature_verifies_with_the_secret_file(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """With ``secret_file`` the body's HMAC-SHA256 is sent; the trailing newline is not key."""
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret-value\n", encoding="utf-8")
    job = make_job(rig.store)
    hook = webhook(receiver.url, secret_file=secret)
    rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    rig.drain()
    [got] = receiver.got
    expected = "sha256=" + hmac.new(b"s3cret-value", got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["X-Viggle-Watch-Signature"], expected)


def test_an_unreadable_secret_file_sends_nothing(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A configured secret that cannot be read: no unsigned POST, a note saying why."""
    job = make_job(rig.store)
    hook = webhook(receiver.url, secret_file=tmp_path / "missing.secret")
    rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    rig.drain()
    assert (receiver.got, rig.notes(job)) == (
        [],
        [
            f"hook on_done webhook: not sent: cannot read secret_file "
            f"{tmp_path / 'missing.secret'}: No such file or directory"
        ],
    )


def test_a_400_is_not_retried(rig: Rig, receiver: Receiver) -> None:
    """A client error other than 429 is final: one POST, no sleep."""
    receiver.statuses = [400]
    job = make_job(rig.store)
    rig.runner.fire(job, "failed", webhook(receiver.url), output=None, sidecar=None, body=None)
    rig.drain()
    assert (len(receiver.got), rig.slept) == (1, [])
    assert rig.notes(job) == ["hook on_failed webhook: failed after 1 attempt: HTTP 400"]


def test_429_waits_for_retry_after(rig: Rig, receiver: Receiver) -> None:
    """A 429 with ``Retry-After: 7`` waits 7 s (not the backoff) and tries again."""
    receiver.statuses, receiver.extra_headers = [429, 200], {"Retry-After": "7"}
    job = make_job(rig.store)
    rig.runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=None, body=None)
    rig.drain()
    assert (len(receiver.got), rig.slept) == (2, [7.0])
    assert rig.notes(job) == ["hook on_done webhook: delivered (2 attempts)"]


def test_connection_refused_is_retried(rig: Rig) -> None:
    """Nobody listening: retried up to ``attempts``, noted with the error's kind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    job = make_job(rig.store)
    hook = webhook(f"http://127.0.0.1:{port}/hook", attempts=2, timeout=2)
    rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    rig.drain()
    assert rig.slept == [1.0]
    assert rig.notes(job) == ["hook on_done webhook: failed after 2 attempts: ConnectionError"]


def test_body_falls_back_to_the_given_document_then_a_minimal_one(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A missing sidecar file: ``body`` is sent; with no body either, a minimal document."""
    job = make_job(rig.store)
    hook = webhook(receiver.url)
    gone = tmp_path / "moved-away.json"
    rig.runner.fire(job, "done", hook, output=None, sidecar=gone, body={"given": True})
    rig.runner.fire(job, "failed", hook, output=None, sidecar=None, body=None)
    rig.drain()
    given, minimal = (json.loads(r.body) for r in receiver.got)
    assert given == {"given": True}
    assert {k: minimal[k] for k in ("event", "job", "state", "error")} == {
        "event": "failed",
        "job": {"id": job.id, "rule": "dance", "state": "queued"},
        "state": "queued",
        "error": None,
    }


def test_the_url_query_is_redacted_in_logs(rig: Rig, receiver: Receiver) -> None:
    """A token in the webhook URL's query string never reaches the log."""
    job = make_job(rig.store)
    hook = webhook(receiver.url + "?token=very-secret-token")
    with capture_logs() as logs:
        rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
        rig.drain()
    [delivered] = [e for e in logs if e["event"] == "hook_delivered"]
    assert delivered["url"] == receiver.url + "?***"
    assert "very-secret-token" not in repr(logs)
    assert receiver.got[0].path == "/hook?token=very-secret-token"


def test_fire_returns_at_once(rig: Rig, receiver: Receiver) -> None:
    """While the receiver is still holding the request, ``fire`` has long returned."""
    receiver.gate.clear()
    job = make_job(rig.store)
    started = time.monotonic()
    rig.runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=None, body=None)
    elapsed_s = time.monotonic() - started
    assert (elapsed_s < 0.5, rig.notes(job)) == (True, [])
    receiver.gate.set()
    rig.drain()
    assert rig.notes(job) == ["hook on_done webhook: delivered (1 attempt)"]


def move(store: JobStore, job: Job, *route: State, **fields: object) -> Job:
    """Take ``job`` along ``route`` (allowed transitions), setting ``fields`` on the last."""
    here, transition = job.state, cast(Callable[..., Job], store.transition)
    for step, there in enumerate(route, start=1):
        last = fields if step == len(route) else {}
        job = transition(job.id, here, there, at=T0 + step, **last)
        here = there
    return job


def test_ended_fires_on_done_with_the_output_and_its_sidecar(
    rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A done job (passed as its stale pre-transition copy) POSTs the sidecar beside its output."""
    output, stale = tmp_path / "hero__dance.mp4", make_job(rig.store)
    sidecar_file(tmp_path)
    ahead = (State.PREPARING, State.SUBMITTING, State.RENDERING, State.DOWNLOADING)
    stale = move(rig.store, stale, *ahead, output_path=str(output))
    move(rig.store, stale, State.DONE)
    rig.runner.ended(stale, on_done=webhook(receiver.url), on_failed=None)
    rig.drain()
    [got] = receiver.got
    assert (json.loads(got.body), got.headers["X-Viggle-Watch-Event"]) == (SIDECAR, "done")


def test_ended_fires_on_failed_with_the_error(rig: Rig, receiver: Receiver) -> None:
    """A failed job sends the minimal document with its error; on_done is not run."""
    stale = make_job(rig.store)
    move(rig.store, stale, State.FAILED, error_code="over_budget", error_message="too dear")
    hooks = {"on_done": webhook(receiver.url + "/done"), "on_failed": webhook(receiver.url)}
    rig.runner.ended(stale, **hooks)
    rig.drain()
    [got] = receiver.got
    doc = json.loads(got.body)
    assert (got.path, doc["state"], doc["error"]) == (
        "/hook",
        "failed",
        {"code": "over_budget", "message": "too dear"},
    )


def test_ended_runs_nothing_for_a_cancelled_job(rig: Rig, receiver: Receiver) -> None:
    """Cancelled by a person: neither hook runs and nothing is noted."""
    stale = make_job(rig.store)
    move(rig.store, stale, State.CANCELLED)
    hook = webhook(receiver.url)
    rig.runner.ended(stale, on_done=hook, on_failed=hook)
    rig.drain()
    assert (receiver.got, rig.notes(stale)) == ([], [])


# --- commands -------------------------------------------------------------------------------

RECORDER = """\
import json, os, sys
json.dump({"argv": sys.argv[2:],
           "env": {k: os.environ.get(k) for k in sys.argv[1].split(",")}},
          open(os.environ["HOOK_RESULT"], "w"))
"""


def command_hook(tmp_path: Path, source: str, *args: str) -> Hook:
    """A command hook running ``source`` as a script with this Python."""
    script = tmp_path / "hook_script.py"
    script.write_text(source, encoding="utf-8")
    return Hook(command=[sys.executable, str(script), *args])


def test_a_command_gets_the_paths_as_arguments_and_environment(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argv ends with the output and sidecar paths; env names the event and job, not the key."""
    result = tmp_path / "result.json"
    monkeypatch.setenv("HOOK_RESULT", str(result))
    monkeypatch.setenv("VIGGLE_API_KEY", "sk-never-for-hooks-123")
    names = "VIGGLE_WATCH_EVENT,VIGGLE_WATCH_JOB_ID,VIGGLE_WATCH_OUTPUT,VIGGLE_API_KEY"
    job, output = make_job(rig.store), tmp_path / "hero__dance.mp4"
    hook = command_hook(tmp_path, RECORDER, names)
    rig.runner.fire(
        job, "done", hook, output=output, sidecar=output.with_suffix(".json"), body=None
    )
    rig.drain()
    assert json.loads(result.read_text(encoding="utf-8")) == {
        "argv": [str(output), str(output.with_suffix(".json"))],
        "env": {
            "VIGGLE_WATCH_EVENT": "done",
            "VIGGLE_WATCH_JOB_ID": str(job.id),
            "VIGGLE_WATCH_OUTPUT": str(output),
            "VIGGLE_API_KEY": None,
        },
    }
    assert rig.notes(job) == ["hook on_done command: succeeded (exit 0)"]


def test_a_failing_command_is_noted_with_its_stderr(rig: Rig, tmp_path: Path) -> None:
    """A non-zero exit: the note has the code and the end of stderr; the job is unchanged."""
    source = "import sys\nsys.stderr.write('x' * 500 + 'disk full\\n')\nsys.exit(3)\n"
    job = make_job(rig.store)
    rig.runner.fire(
        job, "failed", command_hook(tmp_path, source), output=None, sidecar=None, body=None
    )
    rig.drain()
    [note] = rig.notes(job)
    assert note == "hook on_failed command: failed: exit 3: " + "x" * 291 + "disk full"
    assert rig.store.get(job.id) == job


def test_a_hanging_command_is_killed_at_its_timeout(
    store: JobStore, session: requests.Session, tmp_path: Path
) -> None:
    """Past ``command_timeout_s`` the command is killed and the hook noted as timed out."""
    runner = HookRunner(store, session, clock=lambda: T0, command_timeout_s=0.3)
    runner.start()
    job = make_job(store)
    hook = command_hook(tmp_path, "import time\ntime.sleep(30)\n")
    runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    assert runner.stop(5.0) is True
    notes = [e.detail for e in store.events(job.id)][1:]
    assert notes == ["hook on_done command: failed: timed out after 0.3s"]


def test_a_missing_program_is_noted(rig: Rig, tmp_path: Path) -> None:
    """A command that cannot start is a failure note, not a crashed worker."""
    job = make_job(rig.store)
    hook = Hook(command=[str(tmp_path / "no-such-program")])
    rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    noop = Hook(command=[sys.executable, "-c", "pass"])
    rig.runner.fire(job, "done", noop, output=None, sidecar=None, body=None)
    rig.drain()
    missing, ran = rig.notes(job)
    assert (missing.startswith("hook on_done command: failed: cannot run: "), ran) == (
        True,
        "hook on_done command: succeeded (exit 0)",
    )


# --- lifecycle ------------------------------------------------------------------------------


def test_stop_drains_what_is_queued(store: JobStore, session: requests.Session) -> None:
    """Hooks fired before start and before stop all run; fire after stop is dropped."""
    runner = HookRunner(store, session, clock=lambda: T0, sleep=lambda _s: None)
    jobs = [make_job(store, key=f"k{i}") for i in range(3)]
    noop = Hook(command=[sys.executable, "-c", "pass"])
    runner.fire(jobs[0], "done", noop, output=None, sidecar=None, body=None)
    runner.start()
    for job in jobs[1:]:
        runner.fire(job, "done", noop, output=None, sidecar=None, body=None)
    assert runner.stop(5.0) is True
    runner.fire(jobs[0], "done", noop, output=None, sidecar=None, body=None)
    notes = [[e.detail for e in store.events(j.id)][1:] for j in jobs]
    assert notes == [["hook on_done command: succeeded (exit 0)"]] * 3


def test_stop_gives_up_retrying_when_its_time_is_up(
    store: JobStore, session: requests.Session, receiver: Receiver
) -> None:
    """A retry wait is cut short by stop; the next queued hook is noted as not run."""
    receiver.statuses = [503]
    runner = HookRunner(store, session, clock=lambda: T0)  # the real, interruptible sleep
    runner.start()
    first, second = make_job(store, "k1"), make_job(store, "k2")
    for job in (first, second):
        runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=None, body=None)
    started = time.monotonic()
    assert runner.stop(0.2) is True
    assert time.monotonic() - started < 2.0
    assert [[e.detail for e in store.events(j.id)][1:] for j in (first, second)] == [
        ["hook on_done webhook: failed after 1 attempt: HTTP 503 (gave up: service stopping)"],
        ["hook on_done webhook: not run (service stopping)"],
    ]
