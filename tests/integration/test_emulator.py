"""The Viggle emulator over real HTTP on 127.0.0.1, with a fake clock (no sleeps): ``clock`` is
``tests.support.emulator``'s."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.emulator import FakeClock, post, upload_submission
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, key_fingerprint, serve
from viggle_watch.emulator.state import CHECKPOINTS
from viggle_watch.errors import ConfigError
from viggle_watch.media.probe import probe_video
from viggle_watch.media.synth import RESULT_FPS, make_character_png, make_driving_mp4

KEY = "sk-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LATENCY_S = 10.0
TIMEOUT_S = 10.0
INVALID_KEY = {
    "detail": {
        "error_code": "CS-UORC01-007",
        "message": "Invalid or expired API key",
        "action": "Check your API key in the Viggle dashboard",
    }
}


@dataclass(frozen=True)
class Inputs:
    """Bytes of a real character PNG and driving MP4."""

    image: bytes
    video: bytes


StartEmulator = Callable[..., RunningEmulator]


@pytest.fixture
def start_emulator(clock: FakeClock) -> Iterator[StartEmulator]:
    """Factory that serves emulators on 127.0.0.1:0; stops them all and checks no thread leaks."""
    threads_before = set(threading.enumerate())
    running: list[RunningEmulator] = []

    def start(*, keys: frozenset[str] | None = None) -> RunningEmulator:
        config = EmulatorConfig(latency_s=LATENCY_S, keys=keys, clock=clock)
        emulator = serve(config, "127.0.0.1", 0)
        running.append(emulator)
        return emulator

    yield start
    for emulator in running:
        emulator.stop()
    assert set(threading.enumerate()) - threads_before == set()


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> RunningEmulator:
    """One running emulator accepting any sk- key."""
    return start_emulator()


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    """A real PNG and MP4 to upload."""
    image = make_character_png(tmp_path / "hero.png").read_bytes()
    video = make_driving_mp4(tmp_path / "dance.mp4").read_bytes()
    return Inputs(image=image, video=video)


def submit(
    emulator: RunningEmulator,
    files: dict[str, tuple[str, bytes]],
    *,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> requests.Response:
    """POST /api/render with the given multipart files (with this file's key unless overridden)."""
    auth = AUTH if headers is None else headers
    return post(emulator, "/api/render", files=files, data=data, headers=auth)


def files_of(inputs: Inputs) -> dict[str, tuple[str, bytes]]:
    """The multipart files of an on-demand render."""
    return {"ref_image": ("hero.png", inputs.image), "driving_video": ("dance.mp4", inputs.video)}


def status(emulator: RunningEmulator, job_id: str) -> requests.Response:
    """GET /api/render/{job_id} without a key."""
    return requests.get(f"{emulator.url}/api/render/{job_id}", timeout=TIMEOUT_S)


def completed_cdn_url(emulator: RunningEmulator, inputs: Inputs, clock: FakeClock) -> str:
    """Submit a render, move the clock past the latency, and return its cdn_url."""
    job_id = submit(emulator, files_of(inputs)).json()["job_id"]
    clock.advance(LATENCY_S)
    url = status(emulator, job_id).json()["cdn_url"]
    assert isinstance(url, str)
    return url


def test_missing_authorization_gets_string_detail(
    emulator: RunningEmulator, inputs: Inputs
) -> None:
    """A submit without Authorization is 401 with the plain-string detail of spec §4."""
    response = submit(emulator, files_of(inputs), headers={})
    assert response.status_code == 401
    assert response.json() == {"detail": "API key required. Use Authorization: Bearer sk-xxx"}


@pytest.mark.parametrize("header", ["Bearer nope", "Token sk-abc", "Bearer sk-", "sk-abc"])
def test_malformed_key_gets_invalid_key_detail(
    emulator: RunningEmulator, inputs: Inputs, header: str
) -> None:
    """An Authorization header that is not 'Bearer sk-...' is 401 CS-UORC01-007."""
    response = submit(emulator, files_of(inputs), headers={"Authorization": header})
    assert (response.status_code, response.json()) == (401, INVALID_KEY)


def test_keys_restrict_which_keys_are_accepted(
    start_emulator: StartEmulator, inputs: Inputs
) -> None:
    """With keys= given, another sk- key is 401 CS-UORC01-007 and a listed key is accepted."""
    emulator = start_emulator(keys=frozenset({"sk-good"}))
    other = submit(emulator, files_of(inputs), headers={"Authorization": "Bearer sk-other"})
    good = submit(emulator, files_of(inputs), headers={"Authorization": "Bearer sk-good"})
    assert (other.status_code, other.json()) == (401, INVALID_KEY)
    assert good.status_code == 200


@pytest.mark.parametrize(
    ("field", "corrupt", "code"),
    [
        pytest.param("ref_image", False, "CS-ORIV-001", id="missing-ref_image"),
        pytest.param("driving_video", False, "CS-ORIV-002", id="missing-driving_video"),
        pytest.param("ref_image", True, "CS-UORC01-002", id="corrupt-ref_image"),
        pytest.param("driving_video", True, "CS-ORIV-007", id="corrupt-driving_video"),
    ],
)
def test_missing_or_corrupt_file_is_rejected(
    emulator: RunningEmulator, inputs: Inputs, field: str, corrupt: bool, code: str
) -> None:
    """A file left out, or one Pillow or PyAV cannot decode, is 400 with its documented code."""
    files = files_of(inputs)
    if corrupt:
        name, content = files[field]
        files[field] = (name, content[: len(content) // 3])
    else:
        del files[field]
    response = submit(emulator, files)
    assert response.status_code == 400
    assert response.json()["detail"]["error_code"] == code


def test_unknown_model_is_rejected(emulator: RunningEmulator, inputs: Inputs) -> None:
    """A model other than V4_Preview or V3_Preview is 400 CS-UORC01-002."""
    response = submit(emulator, files_of(inputs), data={"model": "V9_Turbo"})
    assert response.status_code == 400
    assert response.json()["detail"]["error_code"] == "CS-UORC01-002"


def test_submit_returns_a_queued_job(emulator: RunningEmulator, inputs: Inputs) -> None:
    """A valid submit is 200 with job_id, status queued, mode and a UTC enqueued_at."""
    body = submit(emulator, files_of(inputs)).json()
    assert set(body) == {"job_id", "status", "mode", "enqueued_at"}
    assert re.fullmatch(r"job_[0-9a-f]+", body["job_id"])
    assert (body["status"], body["mode"]) == ("queued", "full_pipeline")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["enqueued_at"])


def test_job_goes_queued_processing_complete(
    emulator: RunningEmulator, inputs: Inputs, clock: FakeClock
) -> None:
    """The status follows the fake clock: queued, processing with progress, then complete."""
    job_id = submit(emulator, files_of(inputs)).json()["job_id"]
    queued = status(emulator, job_id).json()
    clock.advance(LATENCY_S / 2)
    processing = status(emulator, job_id).json()
    clock.advance(LATENCY_S / 2)
    complete = status(emulator, job_id).json()

    assert (queued["status"], queued["checkpoint"], queued["cdn_url"]) == ("queued", None, None)
    assert processing["status"] == "processing"
    assert 0 < processing["progress_pct"] < 100
    assert processing["checkpoint"] in CHECKPOINTS
    assert processing["cdn_url"] is None
    cdn_url = complete["cdn_url"]
    assert re.fullmatch(rf"{emulator.url}/cdn/{job_id}\.mp4\?sig=[\w-]+&exp=\d+", cdn_url)
    assert complete == {
        "job_id": job_id,
        "status": "complete",
        "mode": "full_pipeline",
        "checkpoint": "render_done",
        "progress_pct": 100,
        "cdn_url": cdn_url,
        "mask_cdn_url": None,
        "error": None,
        "error_code": None,
        "error_message": None,
        "progress": {"completed_chunks": 0, "total_chunks": 0, "percent": 100},
        "download_url": cdn_url,
        "chunks": [],
        "created_at": queued["created_at"],
        "completed_at": complete["completed_at"],
    }


def test_status_accepts_a_bearer_key(emulator: RunningEmulator, inputs: Inputs) -> None:
    """Sending the key on a status poll is harmless."""
    job_id = submit(emulator, files_of(inputs)).json()["job_id"]
    response = requests.get(f"{emulator.url}/api/render/{job_id}", headers=AUTH, timeout=TIMEOUT_S)
    assert (response.status_code, response.json()["status"]) == (200, "queued")


def test_unknown_job_is_404(emulator: RunningEmulator) -> None:
    """Polling an unknown job id is 404 with a detail object."""
    response = status(emulator, "job_doesnotexist")
    assert response.status_code == 404
    assert response.json() == {
        "detail": {
            "error_code": "CS-UORC01-002",
            "message": "Job not found",
            "action": "Check the job id",
        }
    }


def test_cdn_serves_a_generated_video_as_long_as_the_input(
    emulator: RunningEmulator, inputs: Inputs, clock: FakeClock
) -> None:
    """The signed cdn_url downloads a real MP4 (not the upload) lasting as long as the input."""
    response = requests.get(completed_cdn_url(emulator, inputs, clock), timeout=TIMEOUT_S)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(response.content))
    assert response.content != inputs.video
    assert probe_video(response.content).duration_s == pytest.approx(2.0, abs=1 / RESULT_FPS)


def test_cdn_range_request_returns_the_tail(
    emulator: RunningEmulator, inputs: Inputs, clock: FakeClock
) -> None:
    """'Range: bytes=N-' is answered 206 with Content-Range and the bytes from N."""
    url = completed_cdn_url(emulator, inputs, clock)
    full = requests.get(url, timeout=TIMEOUT_S).content
    size = len(full)
    response = requests.get(url, headers={"Range": "bytes=100-"}, timeout=TIMEOUT_S)
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    assert response.content == full[100:]
    suffix = requests.get(url, headers={"Range": "bytes=-10"}, timeout=TIMEOUT_S)
    assert (suffix.status_code, suffix.content) == (206, full[-10:])
    beyond = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=TIMEOUT_S)
    assert (beyond.status_code, beyond.headers["Content-Range"]) == (416, f"bytes */{size}")


def test_cdn_with_a_bad_signature_is_forbidden(
    emulator: RunningEmulator, inputs: Inputs, clock: FakeClock
) -> None:
    """A cdn_url with a tampered sig is 403."""
    url = re.sub(r"sig=[\w-]+", "sig=forged", completed_cdn_url(emulator, inputs, clock))
    assert requests.get(url, timeout=TIMEOUT_S).status_code == 403


def test_cdn_before_completion_is_404(emulator: RunningEmulator, inputs: Inputs) -> None:
    """The CDN has no file for a job that is not complete yet."""
    job_id = submit(emulator, files_of(inputs)).json()["job_id"]
    response = requests.get(f"{emulator.url}/cdn/{job_id}.mp4?sig=x", timeout=TIMEOUT_S)
    assert response.status_code == 404


def test_stats_count_calls_and_record_submissions(
    emulator: RunningEmulator, inputs: Inputs, clock: FakeClock
) -> None:
    """/_sim/stats counts every call by route (rejected ones too) and lists submissions."""
    submit(emulator, files_of(inputs), headers={})
    url = completed_cdn_url(emulator, inputs, clock)
    job_id = url.split("/cdn/")[1].split(".mp4")[0]
    requests.get(url, timeout=TIMEOUT_S)
    stats = requests.get(f"{emulator.url}/_sim/stats", timeout=TIMEOUT_S).json()
    assert stats == {
        "calls": {
            "POST /api/render": 2,
            "GET /api/render": 1,
            "GET /cdn": 1,
            "GET /_sim/stats": 1,
        },
        "render_submissions": [upload_submission(job_id, inputs.image, inputs.video)],
        "cdn_requests_with_auth": 0,
        "credits_spent": 2.0,
        "balance": 9998.0,
        "balances": {key_fingerprint(KEY): 9998.0},
        "character_creations": [],
        "scene_creations": [],
        "faults_injected": {},
    }
    assert emulator.emulator.stats() == stats


def test_cdn_request_with_authorization_is_counted(
    emulator: RunningEmulator, inputs: Inputs, clock: FakeClock
) -> None:
    """A CDN request carrying Authorization is still served, and counted in the stats."""
    url = completed_cdn_url(emulator, inputs, clock)
    response = requests.get(url, headers=AUTH, timeout=TIMEOUT_S)
    assert response.content == requests.get(url, timeout=TIMEOUT_S).content
    assert emulator.emulator.stats()["cdn_requests_with_auth"] == 1


def test_unknown_route_is_404_with_detail_object(emulator: RunningEmulator) -> None:
    """An unknown path is 404 with a detail object; under /api it needs a key first."""
    outside = requests.get(f"{emulator.url}/nope", timeout=TIMEOUT_S)
    under_api = requests.get(f"{emulator.url}/api/nope", headers=AUTH, timeout=TIMEOUT_S)
    assert outside.status_code == under_api.status_code == 404
    assert outside.json()["detail"]["error_code"] == "CS-UORC01-002"
    assert requests.get(f"{emulator.url}/api/nope", timeout=TIMEOUT_S).status_code == 401


def test_serve_refuses_a_non_loopback_host() -> None:
    """serve() will not listen on a non-loopback address without allow_remote."""
    with pytest.raises(ConfigError, match="non-loopback"):
        serve(EmulatorConfig(), "192.0.2.1", 0)
