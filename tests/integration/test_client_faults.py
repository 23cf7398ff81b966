"""Each emulator fault, through the real ViggleClient, as the typed error of docs/reliability.md §2.

A paid POST is made exactly once in every failure case: the emulator's call counts and the
client's own session both say so.
"""

from __future__ import annotations

import hashlib
import io
import socket
from typing import NamedTuple

import pytest

from tests.support.client import (
    MAX_BYTES,
    ClientMedia,
    CountingSession,
    calls,
    fetch,
    finished,
    make_client,
)
from tests.support.emulator import FakeClock, Start, sha256
from tests.support.waits import wait_for
from viggle_watch.apikey import ApiKey
from viggle_watch.emulator.config import DEFAULT_BALANCE
from viggle_watch.emulator.server import Faults, RunningEmulator
from viggle_watch.errors import (
    AuthError,
    CreditsError,
    DownloadError,
    FastUnavailableError,
    NotSentError,
    OutcomeUnknownError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from viggle_watch.viggle.client import Timeouts, ViggleClient
from viggle_watch.viggle.inputs import RenderOptions, UploadInput
from viggle_watch.viggle.transport import Transport

POST_RENDER = ("POST", "/api/render")
RESUME_AT = 1000
SLOW_ANSWER_S = 0.3
SHORT_READ_S = 0.05


def upload(client_media: ClientMedia) -> UploadInput:
    """The on-demand input of ``client_media``."""
    return UploadInput(client_media.png, client_media.mp4)


def posted_once(emu: RunningEmulator, session: CountingSession) -> None:
    """Assert the render POST reached the emulator once and the client sent it once."""
    assert calls(emu) == {"POST /api/render": 1}
    assert session.sent == [POST_RENDER]


def completed_url(
    emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> tuple[str, str]:
    """Submit and finish a render with a fault-free client; ``(job_id, cdn_url)``."""
    with CountingSession() as own:
        client = make_client(emu.url, own)
        job_id = client.render(upload(client_media)).job_id
        done = finished(client, clock, job_id)
    assert done.cdn_url is not None
    return job_id, done.cdn_url


class Rendered(NamedTuple):
    """A fault-free emulator with one finished render: its job id and CDN URL."""

    emu: RunningEmulator
    job_id: str
    url: str


@pytest.fixture
def rendered(start: Start, clock: FakeClock, client_media: ClientMedia) -> Rendered:
    """An emulator started without faults, one render finished on it."""
    emu = start()
    return Rendered(emu, *completed_url(emu, clock, client_media))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# the paid POST ----------------------------------------------------------------------------


@pytest.mark.parametrize(("retry_after_s", "expected_s"), [(1.0, 1.0), (2.5, 3.0), (None, None)])
def test_429_on_render_is_throttled(
    start: Start,
    session: CountingSession,
    client_media: ClientMedia,
    retry_after_s: float | None,
    expected_s: float | None,
) -> None:
    """429 → ThrottledError carrying Retry-After (seconds, rounded up); nothing was created."""
    emu = start(faults=Faults(rate_429=1.0, retry_after_s=retry_after_s))
    with pytest.raises(ThrottledError) as caught:
        make_client(emu.url, session).render(upload(client_media))
    assert (caught.value.http_status, caught.value.retry_after_s) == (429, expected_s)
    posted_once(emu, session)
    assert emu.emulator.stats()["render_submissions"] == []


def test_5xx_on_render_is_outcome_unknown(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """500/502/503 to a paid POST → OutcomeUnknownError (Viggle may have acted), never retried."""
    emu = start(faults=Faults(rate_5xx=1.0))
    client = make_client(emu.url, session)
    statuses: set[int | None] = set()
    for _ in range(6):
        with pytest.raises(OutcomeUnknownError) as caught:
            client.render(upload(client_media))
        statuses.add(caught.value.http_status)
    assert statuses <= {500, 502, 503} and len(statuses) > 1
    assert calls(emu) == {"POST /api/render": 6}
    assert session.sent == [POST_RENDER] * 6


def test_dropped_connection_after_read_is_outcome_unknown_and_acted_on(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """No answer after the request was read → OutcomeUnknownError; the render exists (charged)."""
    emu = start(faults=Faults(rate_drop_after_read=1.0))
    with pytest.raises(OutcomeUnknownError):
        make_client(emu.url, session).render(upload(client_media))
    posted_once(emu, session)
    stats = emu.emulator.stats()
    assert [s["input"] for s in stats["render_submissions"]] == ["upload"]
    assert (stats["faults_injected"], stats["balance"]) == (
        {"drop_after_read": 1},
        DEFAULT_BALANCE - 2,
    )


def test_dropped_character_preprocess_is_outcome_unknown_and_acted_on(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """The same holds for a character preprocess (1 credit): sent once, created, charged."""
    emu = start(faults=Faults(rate_drop_after_read=1.0))
    with pytest.raises(OutcomeUnknownError):
        make_client(emu.url, session).create_character("hero", client_media.png)
    stats = emu.emulator.stats()
    assert (calls(emu), session.sent) == (
        {"POST /api/characters/preprocess": 1},
        [("POST", "/api/characters/preprocess")],
    )
    assert (len(stats["character_creations"]), stats["balance"]) == (1, DEFAULT_BALANCE - 1)


def test_read_timeout_on_render_is_outcome_unknown_and_the_render_happens(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """An answer slower than the read timeout → OutcomeUnknownError; Viggle acts on it anyway."""
    emu = start(faults=Faults(request_delay_s=SLOW_ANSWER_S))
    timeouts = Timeouts(connect_s=5.0, read_s=SHORT_READ_S, get_attempts=2)
    client = make_client(emu.url, session, timeouts=timeouts)
    with pytest.raises(OutcomeUnknownError):
        client.render(upload(client_media))
    posted_once(emu, session)
    wait_for(
        lambda: len(emu.emulator.stats()["render_submissions"]) == 1,
        timeout_s=5.0,
        what="the late render to be created",
    )
    with pytest.raises(TransientError):
        client.credits()
    assert calls(emu)["GET /api/credits"] == 2


def test_connection_refused_is_not_sent(
    session: CountingSession, client_media: ClientMedia
) -> None:
    """Nothing listening → NotSentError (safe to retry); the POST is attempted once."""
    client = make_client(f"http://127.0.0.1:{closed_port()}", session)
    with pytest.raises(NotSentError):
        client.render(upload(client_media))
    assert session.sent == [POST_RENDER]


def test_fast_unavailable(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """No fast capacity → FastUnavailableError (a RejectedError); the same job without fast goes."""
    emu = start(faults=Faults(fast_unavailable=True))
    client = make_client(emu.url, session)
    with pytest.raises(FastUnavailableError) as caught:
        client.render(upload(client_media), RenderOptions(fast=True))
    assert isinstance(caught.value, RejectedError)
    assert (caught.value.http_status, caught.value.code) == (400, "CS-UORC01-001")
    posted_once(emu, session)
    assert emu.emulator.stats()["render_submissions"] == []
    assert client.render(upload(client_media)).mode == "full_pipeline"


@pytest.mark.parametrize("balance", [0.0, 1.0])
def test_insufficient_credits(
    start: Start, session: CountingSession, client_media: ClientMedia, balance: float
) -> None:
    """A balance short of the render's cost → CreditsError (402 CS-UORC01-008), nothing made."""
    emu = start(balance=balance)
    with pytest.raises(CreditsError) as caught:
        make_client(emu.url, session).render(upload(client_media))
    assert (caught.value.http_status, caught.value.code) == (402, "CS-UORC01-008")
    posted_once(emu, session)
    assert emu.emulator.stats()["render_submissions"] == []


def test_bad_key_is_auth_error(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """A key the API does not know → AuthError (401 CS-UORC01-007), without the key in it."""
    emu = start(keys=frozenset({"sk-the-only-good-key"}))
    bad_key = "sk-not-a-known-key-123"
    with pytest.raises(AuthError) as caught:
        make_client(emu.url, session, key=bad_key).render(upload(client_media))
    assert (caught.value.http_status, caught.value.code) == (401, "CS-UORC01-007")
    assert bad_key not in str(caught.value)
    posted_once(emu, session)


def test_render_failure_ends_failed_with_a_code_and_refunds(
    start: Start, session: CountingSession, clock: FakeClock, client_media: ClientMedia
) -> None:
    """A job drawn to fail ends ``failed`` with its error code; its credits come back."""
    emu = start(faults=Faults(rate_render_failure=1.0, render_failure_code="CS-UORC01-042"))
    client = make_client(emu.url, session)
    created = client.render(upload(client_media))
    assert client.credits().balance == DEFAULT_BALANCE - 2
    done = finished(client, clock, created.job_id)
    assert (done.status, done.terminal, done.error_code, done.error, done.cdn_url) == (
        "failed",
        True,
        "CS-UORC01-042",
        "render_failed",
        None,
    )
    assert done.error_message
    assert client.credits().balance == DEFAULT_BALANCE
    assert calls(emu)["POST /api/render"] == 1


# idempotent GETs --------------------------------------------------------------------------


def test_5xx_on_get_is_transient_after_retries(
    rendered: Rendered, session: CountingSession
) -> None:
    """GETs retry 5xx with backoff up to ``get_attempts``, then raise TransientError."""
    emu, job_id, _ = rendered
    emu.emulator.set_faults(Faults(rate_5xx=1.0))
    sleeps: list[float] = []
    client = make_client(emu.url, session, timeouts=Timeouts(get_attempts=2), sleep=sleeps.append)
    before = calls(emu)
    with pytest.raises(TransientError) as caught:
        client.get_render(job_id)
    assert caught.value.http_status in (500, 502, 503)
    assert calls(emu)["GET /api/render"] - before["GET /api/render"] == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 1.0
    with pytest.raises(TransientError):
        client.credits(retry=False)
    assert calls(emu)["GET /api/credits"] == 1


def test_429_on_get_waits_for_retry_after(
    start: Start, session: CountingSession, client_media: ClientMedia
) -> None:
    """A throttled GET sleeps at least Retry-After between tries, then gives up throttled."""
    emu = start(faults=Faults(rate_429=1.0, retry_after_s=2.0))
    sleeps: list[float] = []
    client = make_client(emu.url, session, timeouts=Timeouts(get_attempts=3), sleep=sleeps.append)
    with pytest.raises(ThrottledError):
        client.credits()
    assert (calls(emu), sleeps) == ({"GET /api/credits": 3}, [2.0, 2.0])


def test_connection_refused_on_get_is_not_sent_after_retries(session: CountingSession) -> None:
    """A GET to nothing is retried ``get_attempts`` times, then NotSentError."""
    client = make_client(
        f"http://127.0.0.1:{closed_port()}", session, timeouts=Timeouts(get_attempts=2)
    )
    with pytest.raises(NotSentError):
        client.get_render("job_x")
    assert session.sent == [("GET", "/api/render/job_x")] * 2


# downloads --------------------------------------------------------------------------------


def test_truncated_download_is_a_download_error(
    rendered: Rendered, session: CountingSession
) -> None:
    """A body cut short of its Content-Length → DownloadError, not an expired URL."""
    emu, _, url = rendered
    emu.emulator.set_faults(Faults(rate_truncate_download=1.0))
    client = make_client(emu.url, session)
    with pytest.raises(DownloadError) as caught:
        client.download(url, io.BytesIO(), max_bytes=MAX_BYTES)
    assert caught.value.expired is False
    stats = emu.emulator.stats()
    assert (stats["faults_injected"], stats["cdn_requests_with_auth"]) == (
        {"truncate_download": 1},
        0,
    )


def test_expired_url_then_a_fresh_one_works(
    start: Start, session: CountingSession, clock: FakeClock, client_media: ClientMedia
) -> None:
    """An expired CDN URL → DownloadError(expired=True); a new status GET gives one that works."""
    emu = start(faults=Faults(cdn_expiry_s=5.0))
    job_id, url = completed_url(emu, clock, client_media)
    client = make_client(emu.url, session)
    clock.advance(10.0)
    with pytest.raises(DownloadError) as caught:
        client.download(url, io.BytesIO(), max_bytes=MAX_BYTES)
    assert (caught.value.expired, caught.value.http_status) == (True, 403)
    fresh = client.get_render(job_id).cdn_url
    assert fresh is not None and fresh != url
    data, summary = fetch(client, fresh)
    assert (summary.size, summary.sha256) == (len(data), sha256(data))
    assert emu.emulator.stats()["cdn_requests_with_auth"] == 0


def resume(client: ViggleClient, url: str, data: bytes) -> tuple[io.BytesIO, str, int]:
    """Resume a download of ``data`` after :data:`RESUME_AT` bytes already held."""
    out = io.BytesIO(data[:RESUME_AT])
    out.seek(0, io.SEEK_END)
    digest = hashlib.sha256(data[:RESUME_AT])
    summary = client.download(url, out, max_bytes=MAX_BYTES, offset=RESUME_AT, digest=digest)
    return out, summary.sha256, summary.size


@pytest.mark.parametrize(
    ("faults", "statuses", "injected"),
    [
        pytest.param(Faults(), [200, 206], {}, id="206"),
        pytest.param(
            Faults(ignore_range=True), [200, 200], {"ignore_range": 1}, id="range-ignored"
        ),
    ],
)
def test_resume_matches_a_full_download(
    rendered: Rendered,
    session: CountingSession,
    faults: Faults,
    statuses: list[int],
    injected: dict[str, int],
) -> None:
    """A Range resume answered 206, or 200 (Range ignored: start over), gives the full bytes."""
    emu, _, url = rendered
    client = make_client(emu.url, session)
    data, full = fetch(client, url)
    assert len(data) > RESUME_AT
    emu.emulator.set_faults(faults)
    out, digest, size = resume(client, url, data)
    assert (out.getvalue(), digest, size) == (data, full.sha256, len(data))
    assert (session.statuses, emu.emulator.stats()["faults_injected"]) == (statuses, injected)


def test_a_request_that_fails_before_a_byte_leaves_is_not_sent(
    start: Start, session: CountingSession
) -> None:
    """An upload that cannot be read (or a header requests refuses) fails while the request is
    being prepared: `NotSentError` — the intent is given back, never made `uncertain`."""
    emu = start()
    gone = io.BytesIO(b"an image")
    gone.close()
    transport = Transport(emu.url, ApiKey("sk-test-key"), session=session)
    with pytest.raises(NotSentError, match="was not sent"):
        transport.send_once("POST", "/api/render", files={"ref_image": ("a.png", gone)})
    assert (session.sent, emu.emulator.stats()["calls"]) == ([], {})


@pytest.mark.parametrize("bad", ["../../admin/delete-everything?confirm=yes#", "a/b", "x y", ""])
def test_an_id_that_is_not_one_path_segment_never_reaches_a_url(
    start: Start, session: CountingSession, bad: str
) -> None:
    """Ids come from manifests and from API answers: one that could change the request's path
    is refused before anything is sent, with the Bearer key or without."""
    emu = start()
    client = make_client(emu.url, session)
    for call in (client.get_render, client.cancel_render, client.get_character, client.get_scene):
        with pytest.raises(NotSentError, match="is not a usable id"):
            call(bad)
    assert (session.sent, emu.emulator.stats()["calls"]) == ([], {})
