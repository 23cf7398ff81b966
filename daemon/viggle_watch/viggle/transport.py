"""HTTP for the Viggle client: one session, explicit timeouts, one classification of outcomes.

POSTs are sent once (never retried here, never by urllib3); GETs retry with capped exponential
backoff, full jitter and ``Retry-After``. The key goes only to the API base URL.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Final, TypedDict

import requests
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder  # type: ignore[import-untyped]
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from viggle_watch.apikey import ApiKey
from viggle_watch.backoff import backoff_s, parse_retry_after
from viggle_watch.errors import (
    ApiError,
    AuthError,
    CreditsError,
    FastUnavailableError,
    NotFoundError,
    NotSentError,
    OutcomeUnknownError,
    RejectedError,
    ThrottledError,
    TransientError,
    UnreadableAnswerError,
)
from viggle_watch.redaction import redact_text, redact_url, register_secret
from viggle_watch.viggle.recording import Recorder
from viggle_watch.viggle.results import Downloaded as Downloaded
from viggle_watch.viggle.results import Fetcher, fetch_result
from viggle_watch.viggle.schemas import error_fields, unwrap

USER_AGENT: Final = "viggle-watch/0.1"
FAST_UNAVAILABLE: Final = "CS-UORC01-001"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 10.0
    read_s: float = 60.0
    get_attempts: int = 4
    backoff_cap_s: float = 30.0


class HttpOptions(TypedDict, total=False):
    """How the client's transport talks HTTP (see :class:`Transport`); each has a default."""

    session: requests.Session | None
    timeouts: Timeouts
    sleep: Callable[[float], None]
    pace: Callable[[], float] | None
    recorder: Recorder | None


class Resume(TypedDict, total=False):
    """Where a download picks up: ``offset`` bytes already written, hashed into ``digest``."""

    offset: int
    digest: Any


FIRST_BYTES: Final = 200


def first_bytes(answer: object) -> str:
    """The start of an answer, for a job's history and a bug report: redacted (keys, tokens,
    signed URLs), one line, at most ``FIRST_BYTES`` characters."""
    if isinstance(answer, bytes):
        text = answer[: FIRST_BYTES * 4].decode("utf-8", errors="replace")
    elif isinstance(answer, str):
        text = answer
    else:
        try:
            text = json.dumps(answer, default=str)
        except ValueError:
            text = repr(answer)
    text = " ".join(redact_text(text[: FIRST_BYTES * 4]).split())
    return repr(text[:FIRST_BYTES] + ("…" if len(text) > FIRST_BYTES else ""))


def _size(file: Any) -> int:
    try:
        return os.fstat(file.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        return -1


def multipart(fields: dict[str, Any], files: dict[str, tuple[str, IO[bytes]]]) -> Any:
    """A multipart body read from the open files while it is sent (never built in memory)."""
    parts: dict[str, Any] = {name: str(value) for name, value in fields.items()}
    for name, (filename, file) in files.items():
        parts[name] = (filename, file, "application/octet-stream")
    return MultipartEncoder(fields=parts)


def never_sent(exc: requests.RequestException) -> bool:
    """True only when the request provably did not leave this machine."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


def classify(resp: requests.Response, *, paid: bool) -> ApiError:
    """The one mapping from a non-2xx response to an error type (docs/reliability.md §2 table)."""
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    code, message, action = (None if v is None else redact_text(v) for v in error_fields(body))
    status = resp.status_code
    text = message or f"HTTP {status} from the Viggle API"
    kw: dict[str, Any] = {"http_status": status, "code": code, "action": action}
    if status == 429:
        return ThrottledError(
            text, retry_after_s=parse_retry_after(resp.headers.get("Retry-After"))
        )
    if status in (401, 403):
        return AuthError(text, **kw)
    if status == 402:
        return CreditsError(text, **kw)
    if status == 404:
        return NotFoundError(text, **kw)
    if status == 400 and code == FAST_UNAVAILABLE:
        return FastUnavailableError(text, **kw)
    if 400 <= status < 500:
        return RejectedError(text, **kw)
    if paid:
        return OutcomeUnknownError(text, **kw)
    return TransientError(text, **kw)


class Transport:
    """The session, the base URL and the key; every request of the client goes through here."""

    def __init__(
        self,
        base_url: str,
        key: ApiKey,
        *,
        session: requests.Session | None = None,
        timeouts: Timeouts = Timeouts(),
        sleep: Callable[[float], None] = time.sleep,
        pace: Callable[[], float] | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.base = base_url.rstrip("/")
        self._pace = pace  # the shared rate limit: seconds to wait before the next request
        self._recorder = recorder  # api.record: each exchange to a file
        self._key = key
        register_secret(key.reveal())  # whatever logs or errors say later, the key is scrubbed
        self.timeouts = timeouts
        self._sleep = sleep
        self.session = session or requests.Session()
        # max_retries=0: urllib3 must never resend a paid POST on its own (docs/reliability.md §2.8)
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, HTTPAdapter(max_retries=0))
        self.session.headers["User-Agent"] = USER_AGENT

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base!r})"

    def _wait_turn(self) -> None:
        """Wait for the shared rate limit. If it cannot be asked (a shared store is down),
        nothing was sent: ``NotSentError``, so a committed intent is refunded, not lost."""
        if self._pace is None:
            return
        try:
            delay = self._pace()
        except Exception as exc:
            raise NotSentError(f"the rate limiter could not be asked: {exc}") from exc
        if delay > 0:
            self._sleep(delay)

    def _record(
        self, method: str, url: str, resp: requests.Response, form: Any, files: Any
    ) -> None:
        """With ``api.record``: this exchange, redacted, to a file (never the uploaded bytes)."""
        if self._recorder is None:
            return
        sizes = {name: _size(part[1]) for name, part in (files or {}).items()}
        self._recorder.record(
            method,
            url,
            resp.status_code,
            dict(resp.headers),
            resp.content,
            form=form if isinstance(form, dict) else None,
            files=sizes,
        )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    def send_once(self, method: str, path: str, *, read_s: float | None = None, **kw: Any) -> Any:
        """A POST or DELETE, sent exactly once; a lost answer to it is ``OutcomeUnknownError``."""
        url = self.base + path
        paid = method == "POST"
        timeout = (self.timeouts.connect_s, read_s or self.timeouts.read_s)
        self._wait_turn()
        form, files = kw.get("data") or kw.get("json"), kw.get("files")
        try:  # everything that can fail before a byte leaves, apart from the sending
            headers = self._auth()
            files = kw.pop("files", None)
            if files:  # streamed from the files as it is sent: memory does not grow with them
                encoder = multipart(kw.pop("data", None) or {}, files)
                kw["data"], headers["Content-Type"] = encoder, encoder.content_type
            prepared = self.session.prepare_request(
                requests.Request(method, url, headers=headers, **kw)
            )
            settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        except Exception as exc:  # a bad header or URL, an unreadable file: provably not sent
            # only the type: a header's text could hold the key
            raise NotSentError(f"{method} {path} was not sent ({type(exc).__name__})") from None
        try:
            resp = self.session.send(prepared, timeout=timeout, **settings)
        except requests.RequestException as exc:
            if never_sent(exc):
                raise NotSentError(f"could not connect to {redact_url(url)}") from None
            kind = OutcomeUnknownError if paid else TransientError
            raise kind(
                f"{method} {path} was sent but no answer came back ({type(exc).__name__})"
            ) from None
        self._record(method, url, resp, form, files)
        if resp.status_code >= 300:
            raise classify(resp, paid=paid)
        try:
            return unwrap(json.loads(resp.content))  # bytes: a UTF-8 BOM is allowed
        except ValueError:
            kind = OutcomeUnknownError if paid else UnreadableAnswerError
            said = first_bytes(resp.content)
            raise kind(f"{method} {path}: the answer was not JSON: {said}") from None

    def _get_once(self, url: str, params: dict[str, Any] | None) -> Any:
        try:
            self._wait_turn()
            resp = self.session.get(
                url,
                headers=self._auth(),
                params=params,
                timeout=(self.timeouts.connect_s, self.timeouts.read_s),
            )
        except requests.RequestException as exc:
            kind = NotSentError if never_sent(exc) else TransientError
            raise kind(f"GET {redact_url(url)} failed ({type(exc).__name__})") from None
        self._record("GET", url, resp, params, None)
        if resp.status_code >= 300:
            raise classify(resp, paid=False)
        try:
            return unwrap(json.loads(resp.content))  # bytes: a UTF-8 BOM is allowed
        except ValueError:
            said = first_bytes(resp.content)
            raise UnreadableAnswerError(
                f"GET {redact_url(url)}: the answer was not JSON: {said}"
            ) from None

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, attempts: int | None = None
    ) -> Any:
        """An idempotent GET with capped exponential backoff, full jitter and Retry-After.

        A ``Retry-After`` longer than the backoff cap is not slept through here: the error
        goes to the caller, whose job is rescheduled instead of blocking a tick.
        """
        url = self.base + path
        limit = attempts or self.timeouts.get_attempts
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._get_once(url, params)
            except UnreadableAnswerError:
                raise  # the server answered: asking again at once would get the same page
            except (NotSentError, TransientError, ThrottledError) as exc:
                cap = self.timeouts.backoff_cap_s
                delay = backoff_s(attempt, cap_s=cap, rand=random.random)
                if isinstance(exc, ThrottledError) and exc.retry_after_s is not None:
                    delay = max(delay, exc.retry_after_s)
                if attempt >= limit or delay > cap:
                    raise
                self._sleep(delay)

    def download(
        self,
        url: str,
        out: IO[bytes],
        *,
        max_bytes: int,
        offset: int = 0,
        digest: Any = None,
    ) -> Downloaded:
        """A result, streamed into ``out`` without the API key (``viggle.results``)."""
        get = Fetcher(self.session, self.base, (self.timeouts.connect_s, self.timeouts.read_s))
        return fetch_result(get, url, out, max_bytes=max_bytes, offset=offset, digest=digest)
