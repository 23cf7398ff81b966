"""Tests for viggle_watch.viggle.client (+ transport, schemas) over a fake HTTP adapter: what it
sends and reads on success, how it retries the idempotent GETs, how it downloads, and that the
key goes only to the API base URL and never into a repr or an error.

The error shapes and the paid POST: ``test_client_errors.py``.
"""

from __future__ import annotations

import hashlib
import io
import traceback
from pathlib import Path

import pytest
import requests

from tests.support.transport import (
    BASE,
    CDN,
    KEY,
    Reply,
    Rig,
    connect_refused,
    render,
    respond,
    summary,
)
from viggle_watch.apikey import ApiKey
from viggle_watch.errors import (
    ApiError,
    AuthError,
    DownloadError,
    NotFoundError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
)
from viggle_watch.viggle.client import Downloaded, Timeouts, ViggleClient
from viggle_watch.viggle.schemas import RenderCreated, RenderStatus
from viggle_watch.viggle.transport import USER_AGENT

# --- success paths -------------------------------------------------------------------------


def test_create_render_posts_both_files_once_with_the_key(
    rig: Rig, inputs: tuple[Path, Path]
) -> None:
    """One multipart POST to the API with Bearer auth, a size-scaled read timeout, no retry."""
    rig.queue(respond(200, {"job_id": "job_1", "status": "queued", "mode": "on_demand"}))
    created = render(rig, inputs)
    (sent,) = rig.transport.sent
    body = sent.body
    assert sent.streamed  # read from the files as it went, never built whole in memory
    assert (
        created,
        sent.request.method,
        sent.request.url,
        sent.request.headers["Authorization"],
        sent.request.headers["User-Agent"],
        sent.timeout,
        b'name="model"\r\n\r\nV4_Preview' in body,
        b'name="ref_image"; filename="hero.png"' in body,
        b'name="driving_video"; filename="dance.mp4"' in body,
    ) == (
        RenderCreated(job_id="job_1", status="queued", mode="on_demand"),
        "POST",
        f"{BASE}/api/render",
        f"Bearer {KEY}",
        USER_AGENT,
        (10.0, 62.0),  # 60 s + 1 MiB at the assumed 512 KiB/s uplink
        True,
        True,
        True,
    )


def test_create_render_unwraps_the_data_envelope(rig: Rig, inputs: tuple[Path, Path]) -> None:
    """The legacy ``{"data": {...}}`` envelope is removed on success."""
    rig.queue(respond(201, {"data": {"job_id": "job_2", "status": "pending"}}))
    assert render(rig, inputs) == RenderCreated(job_id="job_2", status="pending")


def test_get_render_reads_status_with_the_key(rig: Rig) -> None:
    """GET /api/render/ID carries the key, default timeouts, and parses the status."""
    rig.queue(
        respond(
            200,
            {
                "data": {
                    "job_id": "job_1",
                    "status": "complete",
                    "progress_pct": 100,
                    "cdn_url": "https://cdn.test/r.mp4?sig=1",
                    "unknown_field": "ignored",
                }
            },
        )
    )
    status = rig.client.get_render("job_1")
    (sent,) = rig.transport.sent
    assert (
        status,
        status.terminal,
        status.result_url,
        sent.request.method,
        sent.request.url,
        sent.request.headers["Authorization"],
        sent.timeout,
    ) == (
        RenderStatus(
            job_id="job_1",
            status="complete",
            progress_pct=100.0,
            cdn_url="https://cdn.test/r.mp4?sig=1",
        ),
        True,
        "https://cdn.test/r.mp4?sig=1",
        "GET",
        f"{BASE}/api/render/job_1",
        f"Bearer {KEY}",
        (10.0, 60.0),
    )


@pytest.mark.parametrize("status", ["queued", "processing", "rendering", "merging", "pending"])
def test_legacy_and_progress_statuses_are_not_terminal(status: str) -> None:
    """Anything but complete/failed/cancelled means "still going", legacy names included."""
    assert RenderStatus(status=status).terminal is False


@pytest.mark.parametrize("status", ["complete", "failed", "cancelled"])
def test_final_statuses_are_terminal(status: str) -> None:
    """complete, failed and cancelled end polling."""
    assert RenderStatus(status=status).terminal is True


def test_result_url_falls_back_to_download_url() -> None:
    """Old answers name the result ``download_url``; ``cdn_url`` wins when both exist."""
    assert (
        RenderStatus(status="complete", download_url="https://d/1").result_url,
        RenderStatus(
            status="complete", download_url="https://d/1", cdn_url="https://c/2"
        ).result_url,
        RenderStatus(status="complete").result_url,
    ) == ("https://d/1", "https://c/2", None)


# --- idempotent GETs: retried with backoff -------------------------------------------------------


def test_get_retries_transient_failures_then_succeeds(rig: Rig) -> None:
    """5xx, read timeouts, connect errors and bad JSON are retried with jittered backoff."""
    rig.queue(
        respond(503, {"detail": "busy"}),
        requests.ReadTimeout("slow"),
        connect_refused(),
        respond(200, {"job_id": "j", "status": "rendering"}),
    )
    status = rig.client.get_render("j")
    ceilings = [1.0, 2.0, 4.0]  # default Timeouts: 4 attempts, 1 s base, 30 s cap
    assert (
        status,
        len(rig.transport.sent),
        len(rig.sleeps),
        [0.0 <= s <= c for s, c in zip(rig.sleeps, ceilings, strict=True)],
    ) == (RenderStatus(job_id="j", status="rendering"), 4, 3, [True, True, True])


def test_get_gives_up_after_the_configured_attempts(rig: Rig) -> None:
    """After ``get_attempts`` tries the last transient error is raised."""
    session = requests.Session()
    sleeps: list[float] = []
    client = ViggleClient(
        BASE, ApiKey(KEY), session=session, timeouts=Timeouts(get_attempts=3), sleep=sleeps.append
    )
    session.mount(BASE, rig.transport)
    rig.queue(*[respond(500, {"detail": f"down {n}"}) for n in range(5)])
    with pytest.raises(TransientError) as excinfo:
        client.get_render("j")
    session.close()
    assert (summary(excinfo.value), len(rig.transport.sent), len(sleeps)) == (
        (TransientError, "down 2", None, None, 500),
        3,
        2,
    )


def test_get_honours_retry_after_when_throttled(rig: Rig) -> None:
    """A 429 on a GET waits at least Retry-After before the next try."""
    rig.queue(
        respond(429, {}, headers={"Retry-After": "7"}),
        respond(429, {}, headers={"Retry-After": "9"}),
        respond(200, {"status": "rendering"}),
    )
    assert (rig.client.get_render("j").status, rig.sleeps) == ("rendering", [7.0, 9.0])


def test_get_of_bad_json_is_unreadable_and_not_asked_again_at_once(rig: Rig) -> None:
    """A garbled status answer fails that call (a TransientError: the poll is tried again at
    its next turn) without asking again at once — the server answered, with that page."""
    rig.queue(*[respond(200, raw=b"{not json") for _ in range(4)])
    with pytest.raises(UnreadableAnswerError) as excinfo:
        rig.client.get_render("j")
    assert isinstance(excinfo.value, TransientError)
    assert (str(excinfo.value), len(rig.transport.sent)) == (
        f"GET {BASE}/api/render/j: the answer was not JSON: '{{not json'",
        1,
    )


@pytest.mark.parametrize(
    ("status", "kind"), [(400, RejectedError), (401, AuthError), (404, NotFoundError)]
)
def test_get_does_not_retry_permanent_errors(rig: Rig, status: int, kind: type[ApiError]) -> None:
    """Errors that will not pass by waiting are raised at once."""
    rig.queue(respond(status, {"detail": "no"}), respond(200, {"status": "complete"}))
    with pytest.raises(ApiError) as excinfo:
        rig.client.get_render("j")
    assert (type(excinfo.value), len(rig.transport.sent), rig.sleeps) == (kind, 1, [])


# --- downloads --------------------------------------------------------------------------------


def test_download_streams_without_the_key(rig: Rig) -> None:
    """The CDN gets no Authorization header; size and sha256 of what was written are returned."""
    data = b"video-bytes" * 50_000
    rig.queue(respond(200, raw=data, headers={"Content-Length": str(len(data))}))
    out = io.BytesIO()
    got = rig.client.download(f"{CDN}/r.mp4?sig=abc", out, max_bytes=10**7)
    (sent,) = rig.transport.sent
    assert (
        got,
        out.getvalue() == data,
        "Authorization" in sent.request.headers,
        sent.request.url,
    ) == (
        Downloaded(len(data), hashlib.sha256(data).hexdigest()),
        True,
        False,
        f"{CDN}/r.mp4?sig=abc",
    )


def test_plain_http_on_loopback_is_refused_while_the_api_is_remote(rig: Rig) -> None:
    """Plain http is for a loopback emulator only: with a remote API base it is refused
    (the emulator case, both on loopback, is covered by every pipeline test)."""
    with pytest.raises(DownloadError):
        rig.client.download("http://127.0.0.1/r.mp4", io.BytesIO(), max_bytes=10)
    assert rig.transport.sent == []


def test_download_refuses_plain_http_to_other_hosts(rig: Rig) -> None:
    """A non-loopback http:// result URL is refused before any request, query redacted."""
    with pytest.raises(DownloadError) as excinfo:
        rig.client.download("http://cdn.test/r.mp4?sig=abc", io.BytesIO(), max_bytes=10)
    assert (str(excinfo.value), rig.transport.sent) == (
        "refusing a non-https download URL http://cdn.test/r.mp4?***",
        [],
    )


@pytest.mark.parametrize("status", [403, 404, 410])
def test_download_of_an_expired_url_says_expired(rig: Rig, status: int) -> None:
    """403/404/410 from the CDN mean the signed URL is stale: fetch a fresh one."""
    rig.queue(respond(status, raw=b"AccessDenied"))
    with pytest.raises(DownloadError) as excinfo:
        rig.client.download(f"{CDN}/r.mp4", io.BytesIO(), max_bytes=10)
    assert (excinfo.value.expired, excinfo.value.http_status) == (True, status)


def test_download_detects_truncation(rig: Rig) -> None:
    """Fewer bytes than Content-Length is an error, not a short video."""
    rig.queue(respond(200, raw=b"abc", headers={"Content-Length": "10"}))
    with pytest.raises(DownloadError) as excinfo:
        rig.client.download(f"{CDN}/r.mp4", io.BytesIO(), max_bytes=100)
    assert str(excinfo.value) == "download truncated: 3 of 10 bytes"


def test_download_enforces_the_size_cap(rig: Rig) -> None:
    """A result bigger than max_bytes is refused."""
    rig.queue(respond(200, raw=b"x" * 11))
    with pytest.raises(DownloadError) as excinfo:
        rig.client.download(f"{CDN}/r.mp4", io.BytesIO(), max_bytes=10)
    assert str(excinfo.value) == "result is larger than the 10-byte cap"


# --- the key never leaks --------------------------------------------------------------------------


def test_repr_of_the_client_hides_the_key(rig: Rig) -> None:
    """repr(client) shows the base URL only."""
    assert repr(rig.client) == "ViggleClient(base_url='http://api.test')"


@pytest.mark.parametrize(
    "reply",
    [
        respond(500, {"detail": "oops"}),
        respond(401, {"detail": "Invalid API key"}),
        respond(429, {}),
        respond(200, {"nothing": True}),
        respond(200, raw=b"nope"),
        requests.ReadTimeout(f"read timed out; headers Authorization: Bearer {KEY}"),
        requests.ConnectTimeout(f"connect timed out for Bearer {KEY}"),
    ],
)
def test_raised_errors_never_contain_the_key(
    rig: Rig, inputs: tuple[Path, Path], reply: Reply
) -> None:
    """str(), repr() and the printed traceback (its causes too) of every error omit the key."""
    rig.queue(reply)
    with pytest.raises(ApiError) as excinfo:
        render(rig, inputs)
    printed = "".join(traceback.format_exception(excinfo.value))
    assert [KEY in text for text in (str(excinfo.value), repr(excinfo.value), printed)] == [
        False,
        False,
        False,
    ]


def test_an_error_message_echoing_the_key_is_scrubbed(rig: Rig, inputs: tuple[Path, Path]) -> None:
    """Even when the API echoes the key back in its error, the raised error does not hold it."""
    rig.queue(respond(401, {"detail": f"Invalid API key: {KEY}"}))
    with pytest.raises(AuthError) as excinfo:
        render(rig, inputs)
    assert str(excinfo.value).count(KEY) == 0
