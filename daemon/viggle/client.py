"""The only HTTP code: typed Viggle calls, one classification of every outcome, no key leaks."""

from __future__ import annotations

import hashlib
import ipaddress
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError as _U3ConnectTimeout
from urllib3.exceptions import MaxRetryError, NewConnectionError

from daemon.apikey import ApiKey
from daemon.backoff import backoff_s, parse_retry_after
from daemon.errors import (
    ApiError,
    AuthError,
    CreditsError,
    DownloadError,
    NotFoundError,
    NotSentError,
    OutcomeUnknownError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from daemon.logs import redact_url
from daemon.viggle.schemas import RenderCreated, RenderStatus, error_fields, unwrap

UPLOAD_BYTES_PER_S: Final = 512 * 1024  # assume a slow uplink when sizing upload timeouts
CHUNK: Final = 256 * 1024
USER_AGENT: Final = "viggle-watch/0.1"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 10.0
    read_s: float = 60.0
    get_attempts: int = 4
    backoff_cap_s: float = 30.0


@dataclass(frozen=True, slots=True)
class Downloaded:
    size: int
    sha256: str


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _never_sent(exc: requests.RequestException) -> bool:
    """True only when the request provably did not leave this machine."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return isinstance(reason, NewConnectionError | _U3ConnectTimeout)
    return False


def classify(resp: requests.Response, *, paid: bool) -> ApiError:
    """The one mapping from a non-2xx response to an error type (RELIABILITY §2 table)."""
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    code, message, action = error_fields(body)
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
    if 400 <= status < 500:
        return RejectedError(text, **kw)
    if paid:
        return OutcomeUnknownError(text, **kw)
    return TransientError(text, **kw)


class ViggleClient:
    """Typed calls to the Viggle API. POSTs are sent once; GETs retry with jittered backoff."""

    def __init__(
        self,
        base_url: str,
        key: ApiKey,
        *,
        session: requests.Session | None = None,
        timeouts: Timeouts = Timeouts(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = key
        self._timeouts = timeouts
        self._sleep = sleep
        self._session = session or requests.Session()
        # max_retries=0: urllib3 must never resend a paid POST on its own (RELIABILITY §2.8)
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, HTTPAdapter(max_retries=0))
        self._session.headers["User-Agent"] = USER_AGENT

    def __repr__(self) -> str:
        return f"ViggleClient(base_url={self._base!r})"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    def _post(self, path: str, *, read_s: float, **kw: Any) -> Any:
        url = self._base + path
        try:
            resp = self._session.post(
                url, headers=self._auth(), timeout=(self._timeouts.connect_s, read_s), **kw
            )
        except requests.RequestException as exc:
            if _never_sent(exc):
                raise NotSentError(f"could not connect to {redact_url(url)}") from None
            raise OutcomeUnknownError(
                f"POST {path} was sent but no answer came back ({type(exc).__name__})"
            ) from None
        if resp.status_code >= 300:
            raise classify(resp, paid=True)
        try:
            return unwrap(resp.json())
        except ValueError:
            raise OutcomeUnknownError(f"POST {path}: the answer was not JSON") from None

    def _get_once(self, url: str, *, auth: bool) -> Any:
        try:
            resp = self._session.get(
                url,
                headers=self._auth() if auth else None,
                timeout=(self._timeouts.connect_s, self._timeouts.read_s),
            )
        except requests.RequestException as exc:
            kind = NotSentError if _never_sent(exc) else TransientError
            raise kind(f"GET {redact_url(url)} failed ({type(exc).__name__})") from None
        if resp.status_code >= 300:
            raise classify(resp, paid=False)
        try:
            return unwrap(resp.json())
        except ValueError:
            raise TransientError(f"GET {redact_url(url)}: the answer was not JSON") from None

    def _get(self, path: str, *, auth: bool = True) -> Any:
        """An idempotent GET with capped exponential backoff, full jitter and Retry-After."""
        url = self._base + path
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._get_once(url, auth=auth)
            except (NotSentError, TransientError, ThrottledError) as exc:
                if attempt >= self._timeouts.get_attempts:
                    raise
                delay = backoff_s(attempt, cap_s=self._timeouts.backoff_cap_s, rand=random.random)
                if isinstance(exc, ThrottledError) and exc.retry_after_s is not None:
                    delay = max(delay, exc.retry_after_s)
                self._sleep(delay)

    def create_render(self, ref_image: Path, driving_video: Path, *, model: str) -> RenderCreated:
        """On-demand render: upload both files in one paid POST. Never retried here."""
        size = ref_image.stat().st_size + driving_video.stat().st_size
        read_s = self._timeouts.read_s + size / UPLOAD_BYTES_PER_S
        with ref_image.open("rb") as img, driving_video.open("rb") as vid:
            body = self._post(
                "/api/render",
                read_s=read_s,
                data={"model": model},
                files={
                    "ref_image": (ref_image.name, img),
                    "driving_video": (driving_video.name, vid),
                },
            )
        if not isinstance(body, dict) or not body.get("job_id"):
            raise OutcomeUnknownError("POST /api/render answered without a job id")
        return RenderCreated.model_validate(body)

    def get_render(self, job_id: str) -> RenderStatus:
        body = self._get(f"/api/render/{job_id}")
        return RenderStatus.model_validate(body)

    def download(self, url: str, out: IO[bytes], *, max_bytes: int) -> Downloaded:
        """Stream ``url`` into ``out`` without the API key; verify the length; size + sha256."""
        if urlsplit(url).scheme != "https" and not is_loopback(url):
            raise DownloadError(f"refusing a non-https download URL {redact_url(url)}")
        try:
            resp = self._session.get(
                url, stream=True, timeout=(self._timeouts.connect_s, self._timeouts.read_s)
            )
        except requests.RequestException as exc:
            raise DownloadError(f"download failed ({type(exc).__name__})") from None
        with resp:
            if resp.status_code in (403, 404, 410):
                raise DownloadError(
                    "the result URL has expired", expired=True, http_status=resp.status_code
                )
            if resp.status_code != 200:
                raise DownloadError(
                    f"download answered HTTP {resp.status_code}", http_status=resp.status_code
                )
            return self._stream(resp, out, max_bytes)

    @staticmethod
    def _stream(resp: requests.Response, out: IO[bytes], max_bytes: int) -> Downloaded:
        expected = resp.headers.get("Content-Length")
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in resp.iter_content(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"result is larger than the {max_bytes}-byte cap")
                digest.update(chunk)
                out.write(chunk)
        except requests.RequestException as exc:
            raise DownloadError(f"download broke off ({type(exc).__name__})") from None
        if expected is not None and int(expected) != size:
            raise DownloadError(f"download truncated: {size} of {expected} bytes")
        return Downloaded(size, digest.hexdigest())
