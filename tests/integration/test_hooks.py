"""Hooks end to end, the webhooks: to a receiver on 127.0.0.1, signed, retried as the answer
says, every outcome noted in a real SQLite job store. Retries never really sleep. Commands and
the runner's stop: ``test_hook_commands.py``."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from structlog.testing import capture_logs

from tests.support.hooks import T0, Receiver, Rig, make_job, webhook
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.outputs.documents import HookBody
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State

SIDECAR = {"schema_version": 1, "job": {"id": 1, "rule": "dance", "state": "done"}}


def sidecar_file(tmp_path: Path, doc: dict[str, Any] | None = None) -> Path:
    """A sidecar JSON file as the downloader writes it."""
    path = tmp_path / "hero__dance.json"
    path.write_text(json.dumps(doc or SIDECAR, indent=2) + "\n", encoding="utf-8")
    return path


# --- webhooks -------------------------------------------------------------------------------


def test_receiver_gets_the_sidecar_once_with_headers(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """The sidecar file's bytes are POSTed once, with event, delivery id and JSON type."""
    job, sidecar = make_job(hook_rig.store), sidecar_file(tmp_path)
    hook_rig.runner.fire(
        job, "done", webhook(receiver.url), output=None, sidecar=sidecar, body=None
    )
    hook_rig.drain()
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
    assert hook_rig.notes(job) == ["hook on_done webhook: delivered (1 attempt)"]


def test_two_failures_then_success_is_delivered_on_the_third_attempt(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """500, 500, 200: three POSTs with one delivery id, backoff 1 s then 2 s, one note."""
    receiver.statuses = [500, 500, 200]
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, attempts=5)
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    hook_rig.drain()
    ids = [r.headers["X-Viggle-Watch-Delivery"] for r in receiver.got]
    assert (ids, hook_rig.slept) == ([f"{job.id}-done"] * 3, [1.0, 2.0])
    assert hook_rig.notes(job) == ["hook on_done webhook: delivered (3 attempts)"]


def test_a_receiver_that_always_fails_is_given_up_after_attempts(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """503 every time: ``attempts`` POSTs, a failure note, and the job's state is untouched."""
    receiver.statuses = [503]
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, attempts=3)
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    hook_rig.drain()
    after = hook_rig.store.get(job.id)
    assert (len(receiver.got), hook_rig.slept) == (3, [1.0, 2.0])
    assert hook_rig.notes(job) == ["hook on_done webhook: failed after 3 attempts: HTTP 503"]
    assert after is not None and after.state == job.state == State.QUEUED


def test_the_signature_verifies_with_the_secret_file(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """With ``secret_file`` the body's HMAC-SHA256 is sent; the trailing newline is not key."""
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret-value\n", encoding="utf-8")
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, secret_file=secret)
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    hook_rig.drain()
    [got] = receiver.got
    expected = "sha256=" + hmac.new(b"s3cret-value", got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["X-Viggle-Watch-Signature"], expected)


def test_an_unreadable_secret_file_sends_nothing(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A configured secret that cannot be read: no unsigned POST, a note saying why."""
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, secret_file=tmp_path / "missing.secret")
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    hook_rig.drain()
    assert (receiver.got, hook_rig.notes(job)) == (
        [],
        [
            f"hook on_done webhook: not sent: cannot read secret_file "
            f"{tmp_path / 'missing.secret'}: No such file or directory"
        ],
    )


def test_a_400_is_not_retried(hook_rig: Rig, receiver: Receiver) -> None:
    """A client error other than 429 is final: one POST, no sleep."""
    receiver.statuses = [400]
    job = make_job(hook_rig.store)
    hook_rig.runner.fire(job, "failed", webhook(receiver.url), output=None, sidecar=None, body=None)
    hook_rig.drain()
    assert (len(receiver.got), hook_rig.slept) == (1, [])
    assert hook_rig.notes(job) == ["hook on_failed webhook: failed after 1 attempt: HTTP 400"]


def test_429_waits_for_retry_after(hook_rig: Rig, receiver: Receiver) -> None:
    """A 429 with ``Retry-After: 7`` waits 7 s (not the backoff) and tries again."""
    receiver.statuses, receiver.extra_headers = [429, 200], {"Retry-After": "7"}
    job = make_job(hook_rig.store)
    hook_rig.runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=None, body=None)
    hook_rig.drain()
    assert (len(receiver.got), hook_rig.slept) == (2, [7.0])
    assert hook_rig.notes(job) == ["hook on_done webhook: delivered (2 attempts)"]


def test_connection_refused_is_retried(hook_rig: Rig) -> None:
    """Nobody listening: retried up to ``attempts``, noted with the error's kind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    job = make_job(hook_rig.store)
    hook = webhook(f"http://127.0.0.1:{port}/hook", attempts=2, timeout=2)
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    hook_rig.drain()
    assert hook_rig.slept == [1.0]
    assert hook_rig.notes(job) == ["hook on_done webhook: failed after 2 attempts: ConnectionError"]


def test_body_falls_back_to_the_given_document_then_a_minimal_one(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A missing sidecar file: ``body`` is sent; with no body either, a minimal document."""
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url)
    gone = tmp_path / "moved-away.json"
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=gone, body={"given": True})
    hook_rig.runner.fire(job, "failed", hook, output=None, sidecar=None, body=None)
    hook_rig.drain()
    given, minimal = (json.loads(r.body) for r in receiver.got)
    assert given == {"given": True}
    assert {k: minimal[k] for k in ("event", "job", "state", "error")} == {
        "event": "failed",
        "job": {"id": job.id, "rule": "dance", "state": "queued"},
        "state": "queued",
        "error": None,
    }


def test_the_url_query_is_redacted_in_logs(hook_rig: Rig, receiver: Receiver) -> None:
    """A token in the webhook URL's query string (or its path) never reaches the log: the log
    says where it went, scheme, host and port."""
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url + "?token=very-secret-token")
    with capture_logs() as logs:
        hook_rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
        hook_rig.drain()
    [delivered] = [e for e in logs if e["event"] == "hook_delivered"]
    origin = "/".join(receiver.url.split("/", 3)[:3])  # http://127.0.0.1:PORT
    assert delivered["url"] == origin + "/***"
    assert "very-secret-token" not in repr(logs)
    assert receiver.got[0].path == "/hook?token=very-secret-token"


def test_fire_returns_at_once(hook_rig: Rig, receiver: Receiver) -> None:
    """While the receiver is still holding the request, ``fire`` has long returned."""
    receiver.gate.clear()
    job = make_job(hook_rig.store)
    started = time.monotonic()
    hook_rig.runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=None, body=None)
    elapsed_s = time.monotonic() - started
    assert (elapsed_s < 0.5, hook_rig.notes(job)) == (True, [])
    receiver.gate.set()
    hook_rig.drain()
    assert hook_rig.notes(job) == ["hook on_done webhook: delivered (1 attempt)"]


def move(store: JobStore, job: Job, *route: State, **fields: object) -> Job:
    """Take ``job`` along ``route`` (allowed transitions), setting ``fields`` on the last."""
    here, transition = job.state, cast(Callable[..., Job], store.transition)
    for step, there in enumerate(route, start=1):
        last = fields if step == len(route) else {}
        job = transition(job.id, here, there, at=T0 + step, **last)
        here = there
    return job


def test_ended_fires_on_done_with_the_output_and_its_sidecar(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A done job (passed as its stale pre-transition copy) POSTs the sidecar beside its output."""
    output, stale = tmp_path / "hero__dance.mp4", make_job(hook_rig.store)
    sidecar_file(tmp_path)
    ahead = (State.PREPARING, State.SUBMITTING, State.RENDERING, State.DOWNLOADING)
    stale = move(hook_rig.store, stale, *ahead, output_path=str(output))
    move(hook_rig.store, stale, State.DONE)
    hook_rig.runner.ended(stale, on_done=webhook(receiver.url), on_failed=None)
    hook_rig.drain()
    [got] = receiver.got
    assert (json.loads(got.body), got.headers["X-Viggle-Watch-Event"]) == (SIDECAR, "done")


def test_ended_fires_on_failed_with_the_error(hook_rig: Rig, receiver: Receiver) -> None:
    """A failed job sends the minimal document with its error; on_done is not run."""
    stale = make_job(hook_rig.store)
    move(hook_rig.store, stale, State.FAILED, error_code="over_budget", error_message="too dear")
    hooks = {"on_done": webhook(receiver.url + "/done"), "on_failed": webhook(receiver.url)}
    hook_rig.runner.ended(stale, **hooks)
    hook_rig.drain()
    [got] = receiver.got
    doc = json.loads(got.body)
    HookBody.model_validate(doc)  # the published schema of this body
    assert (got.path, doc["state"], doc["error"]) == (
        "/hook",
        "failed",
        {"code": "over_budget", "message": "too dear"},
    )


def test_ended_runs_nothing_for_a_cancelled_job(hook_rig: Rig, receiver: Receiver) -> None:
    """Cancelled by a person: neither hook runs and nothing is noted."""
    stale = make_job(hook_rig.store)
    move(hook_rig.store, stale, State.CANCELLED)
    hook = webhook(receiver.url)
    hook_rig.runner.ended(stale, on_done=hook, on_failed=hook)
    hook_rig.drain()
    assert (receiver.got, hook_rig.notes(stale)) == ([], [])


def test_an_input_refused_before_spending_fires_the_rules_on_failed(
    stepper_for: Any, workspace: Workspace, receiver: Receiver, tmp_path: Path
) -> None:
    """Issue 13 §12: a rejected input runs `on_failed` like a failed job: the webhook gets its
    NAME.error.json (event failed, no job), the command gets its path as the last argument."""
    record = tmp_path / "args.txt"
    script = f"import sys; open({str(record)!r}, 'w').write(repr(sys.argv[1:]))"
    command = [sys.executable, "-c", script]
    rule = dance_rule(on_failed={"webhook": {"url": receiver.url}, "command": command})
    st: Stepper = stepper_for("http://127.0.0.1:9", rules=[rule])
    st.service.hooks.start()
    (workspace.watch / "notes.png").write_bytes(b"not a picture\n")
    st.ingest()
    error = workspace.watch / "failed" / "notes.png.error.json"
    wait_for(lambda: bool(receiver.got) and record.exists(), timeout_s=20)
    st.service.hooks.stop(10)
    got = receiver.got[0]
    assert (got.headers["X-Viggle-Watch-Event"], json.loads(got.body)) == (
        "failed",
        json.loads(error.read_text()),
    )
    assert json.loads(got.body)["code"] == "not_an_image"
    assert record.read_text() == repr(["", str(error)])
