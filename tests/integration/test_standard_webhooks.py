"""Webhooks follow Standard Webhooks (issue 17), beside the X-Viggle-Watch-* headers that keep
working: `webhook-id` (one per event, kept by its retries; a retried job's second `done` gets a
new one), `webhook-timestamp` and `webhook-signature`, verified here with the `standardwebhooks`
library — which refuses a stale or tampered delivery — for a plain secret and a `whsec_` one.
A receiver on 127.0.0.1, a real SQLite store; retries never really sleep."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.integration.test_hooks import sidecar_file
from tests.support.hooks import Receiver, Rig, make_job, webhook
from viggle_watch.notify.delivery import signing_key, standard_signature

WHSEC = "whsec_" + base64.b64encode(b"a-shared-secret-of-32-bytes-long").decode()


@pytest.mark.parametrize("secret", ["plain-s3cret", WHSEC])
def test_a_standard_webhooks_library_verifies_the_delivery(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path, secret: str
) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(secret + "\n", encoding="utf-8")
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, secret_file=secret_file)
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    hook_rig.drain()
    [got] = receiver.got
    headers = {k.lower(): v for k, v in got.headers.items()}
    # a plain secret is the key as it is: the library takes raw bytes; whsec_ it decodes itself
    verifier = Webhook(secret if secret.startswith("whsec_") else secret.encode())
    assert verifier.verify(got.body, headers) == json.loads(got.body)
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["x-viggle-watch-delivery"] == f"{job.id}-done"  # the old headers stay
    with pytest.raises(WebhookVerificationError):  # a body changed on the way
        verifier.verify(got.body.replace(b"done", b"DONE"), headers)


def test_a_stale_delivery_is_refused_by_the_receiver(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """A delivery replayed later (its signed timestamp ten minutes old) fails verification;
    so does one whose timestamp was rewritten (the signature covers it)."""
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(WHSEC, encoding="utf-8")
    stamps = iter([time.time() - 600])
    hook_rig.runner._wall = lambda: next(stamps)  # the attempt was made ten minutes ago
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, secret_file=secret_file)
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar_file(tmp_path), body=None)
    hook_rig.drain()
    [got] = receiver.got
    headers = {k.lower(): v for k, v in got.headers.items()}
    verifier = Webhook(WHSEC)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(got.body, headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verifier.verify(got.body, headers | {"webhook-timestamp": str(int(time.time()))})


def test_retries_keep_the_id_and_a_new_event_gets_a_new_one(
    hook_rig: Rig, receiver: Receiver, tmp_path: Path
) -> None:
    """500, 200: both attempts carry one webhook-id (each freshly stamped and signed); the
    same job done again (after `jobs retry`) is a new event with a new id."""
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(WHSEC, encoding="utf-8")
    receiver.statuses = [500, 200, 200]
    job = make_job(hook_rig.store)
    hook = webhook(receiver.url, attempts=3, secret_file=secret_file)
    sidecar = sidecar_file(tmp_path)  # written once: the worker reads it while we fire again
    for _ in range(2):  # the job's done, then done again after a retry
        hook_rig.runner.fire(job, "done", hook, output=None, sidecar=sidecar, body=None)
    hook_rig.drain()
    ids = [r.headers["webhook-id"] for r in receiver.got]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    verifier = Webhook(WHSEC)
    for got in receiver.got:
        verifier.verify(got.body, {k.lower(): v for k, v in got.headers.items()})


def test_the_signature_is_the_standards_own() -> None:
    """The signing function agrees with the library's for the same id, time and body."""
    stamp = 1_700_000_000
    ours = standard_signature("msg_1", stamp, b'{"a":1}', WHSEC.encode())
    theirs = Webhook(WHSEC).sign("msg_1", datetime.fromtimestamp(stamp, tz=UTC), b'{"a":1}')
    assert ours == theirs
    assert signing_key(b"plain") == b"plain"
    assert signing_key(WHSEC.encode()) == b"a-shared-secret-of-32-bytes-long"
