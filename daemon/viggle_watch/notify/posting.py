"""One webhook POST with its retries, the one way every webhook is sent (a rule's ``on_done``
/ ``on_failed``, and the service's ``webhooks:``): stamped and signed as Standard Webhooks says
at each attempt (beside the ``X-Viggle-Watch-*`` headers the caller gives), retried on what
``delivery.judge`` calls transient, never following a redirect, never reading the answer's
body. The session is the caller's (never the Viggle client's: no API key can ride along)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog

from viggle_watch import __version__
from viggle_watch.config.kinds import Webhook
from viggle_watch.config.notify import ServiceWebhook
from viggle_watch.notify.delivery import (
    Verdict,
    judge,
    read_secret,
    retry_delay_s,
    sign,
    standard_signature,
)
from viggle_watch.notify.flood import Message, Send
from viggle_watch.redaction import webhook_shown

log = structlog.get_logger()


class HttpResponse(Protocol):
    """The part of ``requests.Response`` a webhook looks at."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def close(self) -> None: ...


class HttpSession(Protocol):
    """The part of ``requests.Session`` a webhook uses (a test may pass a fake)."""

    def post(
        self,
        url: str,
        *,
        data: bytes,
        headers: Mapping[str, str],
        timeout: float,
        allow_redirects: bool,
        stream: bool,
    ) -> HttpResponse: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Posted:
    ok: bool
    attempts: int
    reason: str = ""


def post_signed(
    session: HttpSession,
    hook: Webhook,
    body: bytes,
    headers: Mapping[str, str],
    *,
    msg_id: str,
    secret: bytes | None,
    wall: Callable[[], float],
    sleep: Callable[[float], None],
    stopping: Callable[[], bool],
    on_retry: Callable[[str, float], None],
) -> Posted:
    """POST ``body`` up to ``hook.attempts`` times; what came of it."""
    attempt, verdict = 0, Verdict(ok=False, retry=False, reason="not sent")
    for attempt in range(1, hook.attempts + 1):
        stamp = int(wall())  # each attempt is stamped and signed when it is sent
        signed = {"webhook-id": msg_id, "webhook-timestamp": str(stamp)}
        if secret is not None:
            signed["webhook-signature"] = standard_signature(msg_id, stamp, body, secret)
        verdict = _attempt(session, hook, body, {**headers, **signed})
        if verdict.ok:
            return Posted(True, attempt)
        if not verdict.retry or attempt == hook.attempts or stopping():
            break
        delay_s = retry_delay_s(attempt, verdict.retry_after_s)
        on_retry(verdict.reason, delay_s)
        sleep(delay_s)
        if stopping():
            break
    return Posted(False, attempt, verdict.reason)


def _attempt(session: HttpSession, hook: Webhook, body: bytes, headers: dict[str, str]) -> Verdict:
    """One POST; connection errors and timeouts are worth retrying, bad URLs are not."""
    try:
        resp = session.post(
            hook.url,
            data=body,
            headers=headers,
            timeout=hook.timeout,
            allow_redirects=False,  # a redirect would turn the POST into a GET elsewhere
            stream=True,  # the answer's body is not read: a receiver cannot flood us
        )
    except ValueError as exc:  # requests' InvalidURL, InvalidHeader ... (also OSErrors)
        return Verdict(ok=False, retry=False, reason=type(exc).__name__)
    except OSError as exc:  # requests' ConnectionError, Timeout ... are OSErrors
        return Verdict(ok=False, retry=True, reason=type(exc).__name__)
    try:
        return judge(resp.status_code, resp.headers.get("Retry-After"))
    finally:
        resp.close()


def webhook_sender(
    hook: ServiceWebhook,
    session: HttpSession,
    *,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Send:
    """A sender that POSTs each event told (``Event.as_json``; a digest as its words) to a
    service webhook, signed as a rule's webhook is (``secret_file`` read at each send)."""

    def send(message: Message) -> str | None:
        event = message.source
        doc = (
            event.as_json()
            if event is not None
            else {"event": "digest", "title": message.title, "body": message.body}
        )
        body = json.dumps(doc, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"viggle-watch/{__version__}",
            "X-Viggle-Watch-Event": message.event,
        }
        secret = None
        if hook.secret_file is not None:
            try:
                secret = read_secret(hook.secret_file)
            except OSError as exc:
                return f"not sent: cannot read secret_file {hook.secret_file}: {exc.strerror}"
            headers["X-Viggle-Watch-Signature"] = sign(body, secret)
        posted = post_signed(
            session,
            hook,
            body,
            headers,
            msg_id=event.id if event is not None else f"msg_{uuid.uuid4().hex}",
            secret=secret,
            wall=wall,
            sleep=sleep,
            stopping=lambda: False,
            on_retry=lambda reason, delay_s: log.warning(
                "webhook_retry_scheduled",
                url=webhook_shown(hook.url),
                reason=reason,
                delay_s=delay_s,
            ),
        )
        return None if posted.ok else f"failed after {posted.attempts} attempt(s): {posted.reason}"

    return send
