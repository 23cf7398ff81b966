"""What one hook delivery is, and the pure rules around it: which event a job's end is, how a
webhook answer is judged, how long to wait before retrying, the signature, the body when there
is no sidecar (the runner: ``notify.hooks``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import structlog
from structlog.typing import FilteringBoundLogger

from viggle_watch import __version__
from viggle_watch.backoff import backoff_s, parse_retry_after
from viggle_watch.config.kinds import Webhook
from viggle_watch.reading import read_regular
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State

log = structlog.get_logger()

HookEvent = Literal["done", "failed"]
RETRY_CAP_S: Final = 60.0  # also caps Retry-After: one slow receiver holds up every other hook
# a render held for review failed too, as far as a hook is concerned (a person must look)
_EVENTS: Final[dict[State, HookEvent]] = {
    State.DONE: "done",
    State.FAILED: "failed",
    State.REVIEW: "failed",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one webhook attempt came to: delivered, worth retrying, or final."""

    ok: bool
    retry: bool
    reason: str = ""
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One hook action to run: a job's webhook or its command — or, with no job, an input's
    refused before any spending (its ``NAME.error.json`` is the sidecar)."""

    job: Job | None
    event: HookEvent
    action: Webhook | tuple[str, ...]
    output: Path | None
    sidecar: Path | None
    body: dict[str, Any] | None
    rule: str = ""  # the rule whose hook it is (the job's, when there is one)
    # Standard Webhooks' webhook-id: one per event, kept by every retry of this delivery (a
    # job retried and done again is a new event with a new id; receivers dedup on it)
    id: str = field(default_factory=lambda: f"msg_{uuid.uuid4().hex}")

    @property
    def kind(self) -> str:
        return "webhook" if isinstance(self.action, Webhook) else "command"

    @property
    def job_id(self) -> str:
        return "" if self.job is None else str(self.job.id)

    @property
    def rule_name(self) -> str:
        return self.rule if self.job is None else self.job.rule

    def log(self) -> FilteringBoundLogger:
        """A logger bound to this job and hook (one unit of work)."""
        bound: FilteringBoundLogger = log.bind(
            job_id=self.job_id or None,
            rule=self.rule_name,
            hook=f"on_{self.event}",
            kind=self.kind,
            input=None if self.job is not None or self.sidecar is None else str(self.sidecar),
        )
        return bound


def sign(body: bytes, secret: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


WHSEC_PREFIX: Final = b"whsec_"


def read_secret(path: Path) -> bytes:
    """A webhook's ``secret_file``: its bytes, without the final line break (``OSError`` if it
    cannot be read; never a folder, a device, or over 64 KiB)."""
    return read_regular(path, 64 * 1024, follow_links=True).rstrip(b"\r\n")


def signing_key(secret: bytes) -> bytes:
    """The HMAC key of a secret file's contents: a Standard Webhooks secret (``whsec_`` and
    base64) is decoded as that standard says; any other secret is used as it is."""
    if secret.startswith(WHSEC_PREFIX):
        try:
            return base64.b64decode(secret[len(WHSEC_PREFIX) :] + b"==")
        except (binascii.Error, ValueError):
            return secret
    return secret


def standard_signature(msg_id: str, timestamp: int, body: bytes, secret: bytes) -> str:
    """Standard Webhooks' ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
    ``id.timestamp.body`` (https://www.standardwebhooks.com/)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def event_for(state: State) -> HookEvent | None:
    """Which hook a job that ended in ``state`` runs (a cancelled job runs none)."""
    return _EVENTS.get(state)


def judge(status: int, retry_after: str | None) -> Verdict:
    """Classify a webhook response: 2xx delivered; 429 and 5xx retried; anything else final."""
    if 200 <= status < 300:
        return Verdict(ok=True, retry=False)
    reason = f"HTTP {status}"
    if status == 429 or status >= 500:
        return Verdict(
            ok=False, retry=True, reason=reason, retry_after_s=parse_retry_after(retry_after)
        )
    if 300 <= status < 400:
        reason += " (redirects are not followed)"
    return Verdict(ok=False, retry=False, reason=reason)


def retry_delay_s(attempt: int, retry_after_s: float | None) -> float:
    """Seconds to wait after failed attempt ``attempt``: Retry-After if given, else backoff."""
    if retry_after_s is not None:
        return min(RETRY_CAP_S, retry_after_s)
    return backoff_s(attempt, cap_s=RETRY_CAP_S)


def minimal_document(item: Delivery) -> dict[str, Any]:
    """The webhook body when there is no sidecar: who the job was and how it ended."""
    job = item.job
    if job is None:  # an input refused before spending whose error file is gone meanwhile
        return {"generator": f"viggle-watch {__version__}", "event": item.event, "job": None}
    error = {"code": job.error_code, "message": job.error_message} if job.error_code else None
    return {
        "generator": f"viggle-watch {__version__}",
        "event": item.event,
        "job": {"id": job.id, "rule": job.rule, "state": str(job.state)},
        "state": str(job.state),
        "source_path": job.source_path,
        "output": {"path": job.output_path} if job.output_path else None,
        "error": error,
    }
