"""Tests for viggle_watch.viggle.client (+ transport, schemas) over a fake HTTP adapter.

Each HTTP outcome maps to exactly one error type; the paid POST is never resent; the key goes
only to the API base URL and never into an error.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from viggle_watch.apikey import ApiKey
from viggle_watch.errors import (
    ApiError,
    AuthError,
    CreditsError,
    DownloadError,
    FastUnavailableError,
    NotFoundError,
    NotSentError,
    OutcomeUnknownError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from viggle_watch.viggle.client import Downloaded, Timeouts, ViggleClient
from viggle_watch.viggle.schemas import RenderCreated, RenderStatus
from viggle_watch.viggle.transport import USER_AGENT

BASE = "http://api.test"
CDN = "https://cdn.test"
KEY = "vk-live-0123456789abcdef"  # deliberately not sk-like: redaction must not be what hides it
Reply: TypeAlias = Callable[[requests.PreparedRequest], requests.Response] | BaseException


def respond(
    status: int,
    body: object = None,
    *,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A canned answer: ``body`` as JSON (or ``raw`` bytes) with ``status`` and ``headers``."""
    content = raw if raw is not None else json.dumps(body).encode()

    def build(request: requests.PreparedRequest) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp.headers.update(headers or {})
        resp.raw = io.BytesIO(content)
        resp.url = request.url or ""
        resp.request = request
        return resp

    return build


@dataclass
class Sent:
    """What the client handed to the transport."""

    request: requests.PreparedRequest
    timeout: object


class FakeTransport(BaseAdapter):
    """Answers each request with the next canned reply and records what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: deque[Reply] = deque()
        self.sent: list[Sent] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        self.sent.append(Sent(request, timeout))
        reply = self.replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        return reply(request)

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class Rig:
    """A client wired to a fake transport, with its recorded sleeps."""

    client: ViggleClient
    transport: FakeTransport
    sleeps: list[float] = field(default_factory=list)

    def queue(self, *replies: Reply) -> None:
        self.transport.replies.extend(replies)

    @property
    def urls(self) -> list[str | None]:
        return [s.request.url for s in self.transport.sent]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A ViggleClient on http://api.test whose every request goes to a FakeTransport."""
    session = requests.Session()
    sleeps: list[float] = []
    client = ViggleClient(BASE, ApiKey(KEY), session=session, sleep=sleeps.append)
    transport = FakeTransport()
    # mounted after the client mounts its own adapters on http:// and https://; longest wins
    for prefix in (BASE, CDN, "http://127.0.0.1", "http://cdn.test"):
        session.mount(prefix, transport)
    yield Rig(client, transport, sleeps)
    session.close()


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A character image and a driving video (bytes only; the client does not decode)."""
    image, video = tmp_path / "hero.png", tmp_path / "dance.mp4"
    image.write_bytes(b"\x89PNG" + b"i" * (256 * 1024 - 4))
    video.write_bytes(b"v" * (768 * 1024))
    return image, video


def render(rig: Rig, inputs: tuple[Path, Path]) -> RenderCreated:
    """The paid POST /api/render."""
    return rig.client.create_render(*inputs, model="V4_Preview")


def summary(exc: ApiError) -> tuple[type[ApiError], str, str | None, str | None, int | None]:
    """The fields a caller branches on or shows."""
    return type(exc), exc.message, exc.code, exc.action, exc.http_status


def connect_refused() -> requests.ConnectionError:
    """What requests raises when the TCP connect is refused (never sent)."""
    conn = HTTPConnection("api.test", 80)
    reason = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111]")
    return requests.ConnectionError(MaxRetryError(HTTPConnectionPool("api.test"), "/", reason))


def dns_failure() -> requests.ConnectionError:
    """What requests raises when the host name does not resolve (never sent)."""
    conn = HTTPConnection("api.test", 80)
    reason = NameResolutionError("api.test", conn, socket.gaierror(-2, "Name or service unknown"))
    return requests.ConnectionError(MaxRetryError(HTTPConnectionPool("api.test"), "/", reason))


def reset_after_send() -> requests.ConnectionError:
    """What requests raises when the server drops the connection mid-answer (maybe acted)."""
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    return requests.ConnectionError(reason)


# --- success paths -------------------------------------------------------------------------


def test_create_render_posts_both_files_once_with_the_key(
    rig: Rig, inputs: tuple[Path, Path]
) -> None:
    """One multipart POST to the API with Bearer auth, a size-scaled read timeout, no retry."""
    rig.queue(respond(200, {"job_id": "job_1", "status": "queued", "mode": "on_demand"}))
    created = render(rig, inputs)
    (sent,) = rig.transport.sent
    body = sent.request.body
    assert isinstance(body, bytes)
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


# --- error shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "detail": {
                    "error_code": "CS-UORC01-002",
                    "message": "Request failed validation",
                    "action": "Check your request parameters",
                }
            },
            (
                RejectedError,
                "Request failed validation",
                "CS-UORC01-002",
                "Check your request parameters",
                400,
            ),
        ),
        (
            401,
            {
                "detail": "API key required. Use Authorization: Bearer sk-xxx"
            },  # the example token in the text is scrubbed too
            (AuthError, "API key required. Use Authorization: Bearer ***", None, None, 401),
        ),
        (
            422,
            {
                "detail": [
                    {"loc": ["body", "model"], "msg": "field required", "type": "missing"},
                    {"loc": ["body", "x"], "msg": "bad value"},
                    "plain entry",
                ]
            },
            (RejectedError, "field required; bad value; plain entry", None, None, 422),
        ),
        (
            402,
            {
                "error_code": "NO_CREDITS",
                "message": "Not enough credits",
                "action": "Buy",
            },
            (CreditsError, "Not enough credits", "NO_CREDITS", "Buy", 402),
        ),
        (
            404,
            {"error": "job not found"},
            (NotFoundError, "job not found", None, None, 404),
        ),
        (
            403,
            {"detail": {"error_code": "CS-UORC01-007", "message": "Invalid or expired API key"}},
            (AuthError, "Invalid or expired API key", "CS-UORC01-007", None, 403),
        ),
        (
            400,
            {"detail": {"error_code": "CS-UORC01-001", "message": "Fast mode unavailable"}},
            (FastUnavailableError, "Fast mode unavailable", "CS-UORC01-001", None, 400),
        ),
        (
            400,
            {"detail": []},
            (RejectedError, "HTTP 400 from the Viggle API", None, None, 400),
        ),
        (
            409,
            ["not", "an", "object"],
            (RejectedError, "HTTP 409 from the Viggle API", None, None, 409),
        ),
    ],
)
def test_every_error_shape_maps_to_a_typed_error(
    rig: Rig,
    status: int,
    body: object,
    expected: tuple[type[ApiError], str, str | None, str | None, int | None],
) -> None:
    """detail object/string/list and top-level shapes give the right type, code and message."""
    rig.queue(respond(status, body))
    with pytest.raises(ApiError) as excinfo:
        rig.client.get_render("job_1")
    assert (summary(excinfo.value), rig.sleeps, len(rig.transport.sent)) == (expected, [], 1)


def test_error_body_that_is_not_json_still_has_a_message(rig: Rig) -> None:
    """An HTML error page gives a generic message with the status."""
    rig.queue(respond(400, raw=b"<html>Bad Request</html>"))
    with pytest.raises(RejectedError) as excinfo:
        rig.client.get_render("job_1")
    assert summary(excinfo.value) == (
        RejectedError,
        "HTTP 400 from the Viggle API",
        None,
        None,
        400,
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, RejectedError),
        (401, AuthError),
        (403, AuthError),
        (402, CreditsError),
        (404, NotFoundError),
        (422, RejectedError),
    ],
)
def test_paid_post_client_errors_map_by_status(
    rig: Rig, inputs: tuple[Path, Path], status: int, kind: type[ApiError]
) -> None:
    """4xx answers to the paid POST say the request was not acted on, by type."""
    rig.queue(respond(status, {"detail": {"error_code": "E", "message": "no"}}))
    with pytest.raises(ApiError) as excinfo:
        render(rig, inputs)
    assert summary(excinfo.value) == (kind, "no", "E", None, status)


@pytest.mark.parametrize(
    ("headers", "retry_after_s"),
    [({"Retry-After": "30"}, 30.0), ({"retry-after": "2.5"}, 2.5), ({}, None)],
)
def test_paid_post_429_is_throttled_with_retry_after(
    rig: Rig, inputs: tuple[Path, Path], headers: dict[str, str], retry_after_s: float | None
) -> None:
    """429 on the POST is ThrottledError carrying Retry-After (None when absent)."""
    rig.queue(respond(429, {"detail": "slow down"}, headers=headers))
    with pytest.raises(ThrottledError) as excinfo:
        render(rig, inputs)
    assert (
        type(excinfo.value),
        excinfo.value.retry_after_s,
        excinfo.value.http_status,
        len(rig.transport.sent),
    ) == (ThrottledError, retry_after_s, 429, 1)


def test_invalid_options_are_rejected_before_sending(rig: Rig, inputs: tuple[Path, Path]) -> None:
    """An unknown model is a client-side RejectedError; nothing is sent, nothing is paid."""
    with pytest.raises(RejectedError) as excinfo:
        rig.client.create_render(*inputs, model="V9_Turbo")
    assert (summary(excinfo.value), rig.transport.sent) == (
        (
            RejectedError,
            "unknown model 'V9_Turbo'; use one of ['V3_Preview', 'V4_Preview']",
            "client_validation",
            None,
            None,
        ),
        [],
    )


# --- the paid POST: never retried, outcome classified ----------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_paid_post_server_error_is_outcome_unknown_and_sent_once(
    rig: Rig, inputs: tuple[Path, Path], status: int
) -> None:
    """A 5xx to the POST may have been acted on: OutcomeUnknownError, exactly one request."""
    rig.queue(respond(status, {"detail": "oops"}), respond(200, {"job_id": "twice"}))
    with pytest.raises(OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert (summary(excinfo.value), rig.urls, rig.sleeps) == (
        (OutcomeUnknownError, "oops", None, None, status),
        [f"{BASE}/api/render"],
        [],
    )


@pytest.mark.parametrize(
    "failure",
    [requests.ReadTimeout("read timed out"), reset_after_send()],
    ids=["read-timeout", "reset-after-send"],
)
def test_paid_post_lost_answer_is_outcome_unknown_and_sent_once(
    rig: Rig, inputs: tuple[Path, Path], failure: requests.RequestException
) -> None:
    """A read timeout or a reset after sending: OutcomeUnknownError, never resent."""
    rig.queue(failure, respond(200, {"job_id": "twice"}))
    with pytest.raises(OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert (type(excinfo.value), str(excinfo.value), len(rig.transport.sent)) == (
        OutcomeUnknownError,
        f"POST /api/render was sent but no answer came back ({type(failure).__name__})",
        1,
    )


@pytest.mark.parametrize(
    "failure",
    [connect_refused(), dns_failure(), requests.ConnectTimeout("connect timed out")],
    ids=["refused", "dns", "connect-timeout"],
)
def test_paid_post_connect_failure_is_not_sent(
    rig: Rig, inputs: tuple[Path, Path], failure: requests.RequestException
) -> None:
    """A failure before the request left the machine is NotSentError (safe to retry later)."""
    rig.queue(failure)
    with pytest.raises(NotSentError) as excinfo:
        render(rig, inputs)
    assert (type(excinfo.value), str(excinfo.value), len(rig.transport.sent)) == (
        NotSentError,
        f"could not connect to {BASE}/api/render",
        1,
    )


@pytest.mark.parametrize(
    "body", [{"status": "queued"}, {"job_id": ""}, {"job_id": None}, {"data": []}, ["job_1"]]
)
def test_paid_post_2xx_without_a_job_id_is_outcome_unknown(
    rig: Rig, inputs: tuple[Path, Path], body: object
) -> None:
    """Success without a job id cannot be tracked: the charge may have happened."""
    rig.queue(respond(200, body))
    with pytest.raises(OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert str(excinfo.value) == "POST /api/render answered without a job id"


def test_paid_post_2xx_not_json_is_outcome_unknown(rig: Rig, inputs: tuple[Path, Path]) -> None:
    """An unparseable success body is OutcomeUnknownError, not a crash."""
    rig.queue(respond(200, raw=b"<html>OK</html>"))
    with pytest.raises(OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert (str(excinfo.value), len(rig.transport.sent)) == (
        "POST /api/render: the answer was not JSON",
        1,
    )


def test_cancel_with_a_lost_answer_is_transient_and_sent_once(rig: Rig) -> None:
    """A DELETE whose answer is lost is not paid: TransientError, still not resent."""
    rig.queue(requests.ReadTimeout("slow"), respond(200, {"status": "cancelled"}))
    with pytest.raises(TransientError) as excinfo:
        rig.client.cancel_render("job_1")
    assert (str(excinfo.value), rig.urls) == (
        "DELETE /api/render/job_1 was sent but no answer came back (ReadTimeout)",
        [f"{BASE}/api/render/job_1"],
    )


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


def test_get_of_bad_json_is_transient(rig: Rig) -> None:
    """A garbled status answer is retried and, if it persists, is a TransientError."""
    rig.queue(*[respond(200, raw=b"{not json") for _ in range(4)])
    with pytest.raises(TransientError) as excinfo:
        rig.client.get_render("j")
    assert (str(excinfo.value), len(rig.transport.sent)) == (
        f"GET {BASE}/api/render/j: the answer was not JSON",
        4,
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
