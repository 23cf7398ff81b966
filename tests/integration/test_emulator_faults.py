"""Each fault the emulator can inject, as a client over HTTP sees it; /_sim/faults and reset."""

from __future__ import annotations

import logging

import pytest
import requests

from tests.support.emulator import (
    AUTH,
    LATENCY_S,
    TIMEOUT_S,
    FakeClock,
    Media,
    Start,
    balance,
    character,
    completed,
    error_code,
    get,
    post,
    render,
    stats,
    status,
    upload_files,
)
from viggle_watch.emulator.server import Faults, RunningEmulator


def set_faults(emu: RunningEmulator, **fields: object) -> dict[str, object]:
    """POST /_sim/faults with ``fields``; return the faults now in force."""
    response = requests.post(f"{emu.url}/_sim/faults", json=fields, timeout=TIMEOUT_S)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def render_under(emu: RunningEmulator, media: Media, **faults: object) -> str:
    """Put ``faults`` in force, then submit a render; return its job id."""
    set_faults(emu, **faults)
    job_id: str = render(emu, media).json()["job_id"]
    return job_id


def test_429_carries_retry_after_and_creates_nothing(emu: RunningEmulator, media: Media) -> None:
    """rate_429=1: every API call is 429 with Retry-After (rounded up), and nothing is acted on."""
    set_faults(emu, rate_429=1.0, retry_after_s=1.5)
    response = render(emu, media)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")
    assert response.json() == {"detail": "Too many requests"}
    set_faults(emu, retry_after_s=None)
    assert "Retry-After" not in get(emu, "/api/credits").headers
    counted = stats(emu)
    assert (counted["render_submissions"], counted["faults_injected"]) == ([], {"429": 2})


def test_5xx_are_500_502_or_503(start: Start) -> None:
    """rate_5xx=1: API calls fail with a mix of 500 (JSON) and 502/503 (HTML pages)."""
    emu = start(faults=Faults(rate_5xx=1.0), seed=3)
    answers = [get(emu, "/api/credits") for _ in range(12)]
    codes = {a.status_code for a in answers}
    assert codes <= {500, 502, 503} and len(codes) > 1
    for answer in answers:
        kind = "application/json" if answer.status_code == 500 else "text/html; charset=utf-8"
        assert answer.headers["Content-Type"] == kind
    assert stats(emu)["faults_injected"] == {"5xx": 12}


def test_same_seed_same_faults(start: Start) -> None:
    """Two emulators with the same seed inject the same faults in the same order."""
    runs = []
    for _ in range(2):
        emu = start(faults=Faults(rate_429=0.3, rate_5xx=0.3), seed=42)
        runs.append([get(emu, "/api/credits").status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert {200, 429} <= set(runs[0])


def test_dropped_connection_after_the_render_was_created(
    emu: RunningEmulator, media: Media, caplog: pytest.LogCaptureFixture
) -> None:
    """rate_drop_after_read=1: the client gets no answer, yet the render exists and is charged."""
    set_faults(emu, rate_drop_after_read=1.0)
    with caplog.at_level(logging.DEBUG), pytest.raises(requests.ConnectionError):
        render(emu, media)
    with pytest.raises(requests.ConnectionError):
        character(emu, media)
    set_faults(emu, rate_drop_after_read=0.0)
    counted = stats(emu)
    assert len(counted["render_submissions"]) == len(counted["character_creations"]) == 1
    assert counted["faults_injected"] == {"drop_after_read": 2}
    assert balance(emu) == 10000.0 - 2 - 1
    job_id = counted["render_submissions"][0]["job_id"]
    assert status(emu, job_id)["status"] == "queued"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_rejected_posts_are_never_dropped(emu: RunningEmulator, media: Media) -> None:
    """Only acted-on POSTs are dropped: a 400 still arrives."""
    set_faults(emu, rate_drop_after_read=1.0)
    files = {"ref_image": ("a.png", media.png)}
    assert error_code(post(emu, "/api/render", files=files)) == (400, "CS-ORIV-002")


def finished_url(emu: RunningEmulator, media: Media, clock: FakeClock) -> str:
    """The cdn_url of a completed render."""
    url = completed(emu, clock, render(emu, media).json()["job_id"])["cdn_url"]
    assert isinstance(url, str)
    return url


def test_truncated_download_stops_half_way(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """rate_truncate_download=1: full Content-Length, half the body, then the connection closes."""
    url = finished_url(emu, media, clock)
    full = requests.get(url, timeout=TIMEOUT_S).content
    set_faults(emu, rate_truncate_download=1.0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=TIMEOUT_S)
    received = bytearray()
    with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
        assert response.headers["Content-Length"] == str(len(full))
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for chunk in response.iter_content(1024):
                received += chunk
    # urllib3 discards the read that hit the early end, so at most half of the body arrives
    assert 0 < len(received) <= len(full) // 2
    assert full.startswith(bytes(received))
    assert stats(emu)["faults_injected"] == {"truncate_download": 2}


def test_truncated_range_download_stops_half_way(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """A truncated 206 also announces its full partial length and stops half-way."""
    url = finished_url(emu, media, clock)
    set_faults(emu, rate_truncate_download=1.0)
    with requests.get(url, headers={"Range": "bytes=100-"}, stream=True, timeout=TIMEOUT_S) as r:
        assert r.status_code == 206
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            r.content  # noqa: B018 - reading the body is the test


def test_ignore_range_sends_the_whole_file(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """ignore_range: a Range request is answered 200 with every byte and no Content-Range."""
    url = finished_url(emu, media, clock)
    full = requests.get(url, timeout=TIMEOUT_S).content
    set_faults(emu, ignore_range=True)
    response = requests.get(url, headers={"Range": "bytes=100-"}, timeout=TIMEOUT_S)
    assert (response.status_code, response.content) == (200, full)
    assert "Content-Range" not in response.headers and "Accept-Ranges" not in response.headers
    assert stats(emu)["faults_injected"] == {"ignore_range": 1}


def test_cdn_urls_expire_and_a_fresh_status_gives_a_new_one(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """cdn_expiry_s: a URL is 403 after that many seconds; the next status GET signs a new one."""
    job_id = render_under(emu, media, cdn_expiry_s=60.0)
    url = completed(emu, clock, job_id)["cdn_url"]
    assert requests.get(url, timeout=TIMEOUT_S).status_code == 200
    clock.advance(61)
    expired = requests.get(url, timeout=TIMEOUT_S)
    assert error_code(expired) == (403, "CS-UORC01-002")
    fresh = status(emu, job_id)["cdn_url"]
    assert fresh != url
    assert requests.get(fresh, timeout=TIMEOUT_S).status_code == 200
    assert stats(emu)["faults_injected"] == {"cdn_expiry": 1}


def test_failed_render_reports_its_code_and_refunds(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """rate_render_failure=1: credits are held while it runs, then it fails and they return."""
    job_id = render_under(emu, media, rate_render_failure=1.0)
    assert (status(emu, job_id)["status"], balance(emu)) == ("queued", 9998.0)
    body = completed(emu, clock, job_id)
    failure = {k: body[k] for k in ("status", "error", "error_code", "cdn_url", "download_url")}
    assert failure == {
        "status": "failed",
        "error": "render_failed",
        "error_code": "CS-UORC01-009",
        "cdn_url": None,
        "download_url": None,
    }
    assert body["error_message"] and body["completed_at"]
    assert balance(emu) == 10000.0
    assert stats(emu)["faults_injected"] == {"render_failure": 1}


def test_fast_unavailable(emu: RunningEmulator, media: Media) -> None:
    """fast_unavailable: fast=true is 400 CS-UORC01-001; fast=false still works."""
    set_faults(emu, fast_unavailable=True)
    assert error_code(render(emu, media, fast="true")) == (400, "CS-UORC01-001")
    assert render(emu, media, fast="false").status_code == 200


def test_legacy_dialect(emu: RunningEmulator, media: Media, clock: FakeClock) -> None:
    """legacy: data envelopes, pending/rendering/merging, top-level error_code and message."""
    set_faults(emu, legacy=True)
    created = render(emu, media).json()
    assert set(created) == {"data"} and created["data"]["status"] == "pending"
    job_id = created["data"]["job_id"]
    names = []
    for step_s in (0.3 * LATENCY_S, 0.6 * LATENCY_S, 0.1 * LATENCY_S, 0.0):
        names.append(status(emu, job_id)["data"]["status"])
        clock.advance(step_s)
    assert names == ["pending", "rendering", "merging", "complete"]
    missing_key = post(emu, "/api/render", files=upload_files(media), headers={})
    assert (missing_key.status_code, missing_key.json()["error_code"]) == (401, "CS-UORC01-006")
    invalid = post(emu, "/api/render", data={"scene_id": "s", "ref_image_url": "x"})
    assert invalid.json() == {
        "error_code": "CS-UORC01-002",
        "message": invalid.json()["message"],
        "action": invalid.json()["action"],
    }
    assert get(emu, "/api/credits").json()["data"]["balance"] == 9998.0


def test_request_delay_sleeps_before_api_answers(start: Start) -> None:
    """request_delay_s goes through the injected sleep, for /api calls only."""
    slept: list[float] = []
    emu = start(faults=Faults(request_delay_s=0.25), sleep=slept.append)
    get(emu, "/api/credits")
    stats(emu)
    assert slept == [0.25]


def test_sim_routes_never_fail(emu: RunningEmulator) -> None:
    """With every API call failing, /_sim/stats and /_sim/faults still answer."""
    set_faults(emu, rate_5xx=1.0)
    assert get(emu, "/api/credits").status_code >= 500
    assert set(stats(emu)) >= {"calls", "faults_injected"}
    assert set_faults(emu, rate_5xx=0.0)["rate_5xx"] == 0.0


def test_sim_faults_reads_validates_and_merges(emu: RunningEmulator) -> None:
    """GET shows the faults; POST merges fields; bad names, types or ranges are 400."""
    defaults = requests.get(f"{emu.url}/_sim/faults", timeout=TIMEOUT_S).json()
    assert defaults == Faults().as_json()
    merged = set_faults(emu, rate_429=0.5, legacy=True)
    assert merged == {**defaults, "rate_429": 0.5, "legacy": True}
    for bad in ({"rate_429": 2}, {"legacy": "yes"}, {"no_such": 1}, {"rate_5xx": 0.6}):
        response = requests.post(f"{emu.url}/_sim/faults", json=bad, timeout=TIMEOUT_S)
        assert error_code(response) == (400, "CS-UORC01-002")
    assert emu.emulator.faults == Faults(rate_429=0.5, legacy=True)
    emu.emulator.set_faults(Faults())
    assert requests.get(f"{emu.url}/_sim/faults", timeout=TIMEOUT_S).json() == defaults


def test_reset_clears_state_but_keeps_faults(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """/_sim/reset forgets jobs, assets, balances and stats; the faults stay in force."""
    job_id = render(emu, media).json()["job_id"]
    character(emu, media)
    set_faults(emu, fast_unavailable=True)
    reset = requests.post(f"{emu.url}/_sim/reset", timeout=TIMEOUT_S)
    assert reset.json() == {"reset": True}
    assert requests.get(f"{emu.url}/api/render/{job_id}", timeout=TIMEOUT_S).status_code == 404
    assert get(emu, "/api/characters").json()["total"] == 0
    counted = stats(emu)
    assert counted["render_submissions"] == counted["character_creations"] == []
    assert (counted["credits_spent"], counted["calls"]) == (
        0.0,
        {
            "GET /api/render": 1,
            "GET /api/characters": 1,
            "GET /_sim/stats": 1,
        },
    )
    assert balance(emu) == 10000.0
    assert error_code(render(emu, media, fast="true")) == (400, "CS-UORC01-001")
    assert AUTH["Authorization"].removeprefix("Bearer ") not in str(counted)
