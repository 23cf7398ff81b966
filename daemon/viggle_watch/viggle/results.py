"""Fetching a finished render's result: never with the API key, https only (or loopback with a
loopback API), every redirect hop held to the same rule, resumed with ``Range`` only on a
``206`` that starts exactly where the file ends, and the byte count checked."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import IO, Any, Final
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from viggle_watch.errors import DownloadError
from viggle_watch.redaction import redact_url
from viggle_watch.serving import is_loopback_host

MAX_REDIRECTS: Final = 5  # a download follows at most this many redirects, each checked
CHUNK: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class Downloaded:
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Fetcher:
    """What a result download needs of the transport: its session (never the key), the API's
    base URL (for the loopback rule) and the timeouts."""

    session: requests.Session
    api_base: str
    timeout: tuple[float, float]


def is_loopback(url: str) -> bool:
    """True when ``url`` names this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")


def result_url_problem(url: str, api_base: str) -> str | None:
    """Why a result URL (or any hop it redirects to) may not be fetched, or None: https only —
    plain http only when both it and the API are on loopback (the emulator)."""
    scheme = urlsplit(url).scheme
    if scheme == "https":
        return None
    if scheme == "http" and is_loopback(url) and is_loopback(api_base):
        return None
    return "a non-https download URL"


def fetch_result(
    get: Fetcher,
    url: str,
    out: IO[bytes],
    *,
    max_bytes: int,
    offset: int = 0,
    digest: Any = None,
) -> Downloaded:
    """Stream ``url`` into ``out`` without the API key; verify the length; size + sha256.

    With ``offset`` > 0, ``out`` already holds that many bytes (hashed into ``digest``):
    ask for the rest, and append only on a ``206`` whose range starts exactly there; on a
    plain ``200`` start over (``out`` is truncated), since appending would corrupt it.
    """
    headers = {"Range": f"bytes={offset}-"} if offset else None
    for _hop in range(MAX_REDIRECTS + 1):  # each hop is held to the result-URL rule
        problem = result_url_problem(url, get.api_base)
        if problem is not None:
            raise DownloadError(f"refusing {problem} {redact_url(url)}")
        try:
            resp = get.session.get(
                url,
                stream=True,
                headers=headers,
                timeout=get.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise DownloadError(f"download failed ({type(exc).__name__})") from None
        location = resp.headers.get("Location") if resp.is_redirect else None
        if location is None:
            break
        resp.close()
        url = urljoin(url, location)
    else:
        raise DownloadError(f"download redirected more than {MAX_REDIRECTS} times")
    with resp:
        start, total = _accept(resp, offset)
        if start == 0:
            out.seek(0)
            out.truncate()
            digest = hashlib.sha256()
        return _stream(resp, out, start, total, max_bytes, digest or hashlib.sha256())


def _accept(resp: requests.Response, offset: int) -> tuple[int, int | None]:
    """Where the body starts in the file, and the file's full size if the server said."""
    status = resp.status_code
    if status in (403, 404, 410):
        raise DownloadError("the result URL has expired", expired=True, http_status=status)
    if status == 206 and offset:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", resp.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == offset:
            return offset, int(match.group(2)) if match.group(2) != "*" else None
        raise DownloadError(
            "the server answered a different range; starting over", http_status=status, restart=True
        )
    if status == 200:
        length = resp.headers.get("Content-Length")
        return 0, int(length) if length is not None else None
    raise DownloadError(
        f"download answered HTTP {status}", http_status=status, restart=status == 416
    )


def _read(resp: requests.Response) -> bytes:
    """The next bytes that arrived; on a broken connection the bytes before the break first."""
    try:
        raw = resp.raw
        if isinstance(raw, urllib3.HTTPResponse):
            return raw.read1(CHUNK, decode_content=True)
        data: bytes = raw.read(CHUNK)  # a test transport's file-like body
        return data
    except (urllib3.exceptions.HTTPError, requests.RequestException, ConnectionError) as exc:
        raise _BrokenOffError(type(exc).__name__) from None


class _BrokenOffError(Exception):
    pass


def _stream(
    resp: requests.Response,
    out: IO[bytes],
    start: int,
    total: int | None,
    max_bytes: int,
    digest: Any,
) -> Downloaded:
    """Copy the body into ``out`` as it arrives, so a break keeps what came (for a resume)."""
    size = start
    while True:
        try:
            chunk = _read(resp)
        except _BrokenOffError as exc:
            out.flush()
            raise DownloadError(f"download broke off at {size} bytes ({exc})") from None
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise DownloadError(f"result is larger than the {max_bytes}-byte cap", restart=True)
        digest.update(chunk)
        out.write(chunk)
    if total is not None and total != size:
        raise DownloadError(f"download truncated: {size} of {total} bytes")
    return Downloaded(size, digest.hexdigest())
