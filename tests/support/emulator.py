"""The Viggle emulator for the tests: on 127.0.0.1:0, its fixtures, real media and HTTP calls.

``emulator`` is one emulator on the real clock with a short render latency (for the service
tests). ``clock``, ``start``, ``emu`` and ``media`` are the emulator tests' harness: every
emulator they start runs with a fake clock, so lifecycles move only when a test advances it;
nothing sleeps. The helpers below (``post``, ``render``, ``status``, ...) call it with the
harness key.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4, make_video

KEY = "sk-harness-key"
OTHER_KEY = "sk-other-harness-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_KEY}"}
LATENCY_S = 10.0
ASSET_DELAY_S = 4.0
TIMEOUT_S = 10.0
DUO_TEMPLATE = "770e8400-e29b-41d4-a716-446655440000"
DUO_SEGMENTS = ("person_a1b2c3d4", "person_e5f6a7b8")
TRIO_TEMPLATE = "880e8400-e29b-41d4-a716-446655440001"
SOLO_TEMPLATE = "5f2d9c1e-8a4b-4e7f-9c3d-2b1a0e9f8d7c"
Json = dict[str, Any]
Files = dict[str, tuple[str, bytes]]
Start = Callable[..., RunningEmulator]


class FakeClock:
    """A monotonic clock that only moves when a test advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Emulators:
    """Starts emulators with the fake clock; ``close()`` stops them and checks for leaks."""

    clock: FakeClock
    running: list[RunningEmulator] = field(default_factory=list)
    threads_before: set[threading.Thread] = field(
        default_factory=lambda: set(threading.enumerate())
    )

    def start(self, **overrides: Any) -> RunningEmulator:
        """Serve an emulator whose config is the test defaults plus ``overrides``."""
        settings: dict[str, Any] = {
            "latency_s": LATENCY_S,
            "asset_delay_s": ASSET_DELAY_S,
            "clock": self.clock,
        }
        settings.update(overrides)
        emulator = serve(EmulatorConfig(**settings))
        self.running.append(emulator)
        return emulator

    def close(self) -> None:
        """Stop every emulator and assert that no thread outlived them."""
        for emulator in self.running:
            emulator.stop()
        assert set(threading.enumerate()) - self.threads_before == set()


@dataclass(frozen=True)
class Media:
    """Real test media, made once per module."""

    png: bytes
    jpeg: bytes
    webp: bytes
    video: bytes
    """2.0 s, 128x128, MP4."""

    @staticmethod
    def make(folder: Path) -> Media:
        """Write and read back the media into ``folder``."""
        png = make_character_png(folder / "hero.png").read_bytes()
        with Image.open(io.BytesIO(png)) as image:
            jpeg, webp = io.BytesIO(), io.BytesIO()
            image.save(jpeg, format="JPEG")
            image.save(webp, format="WEBP")
        video = make_driving_mp4(folder / "dance.mp4", seconds=2.0).read_bytes()
        return Media(
            png,
            jpeg.getvalue(),
            webp.getvalue(),
            video,
        )


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """The Viggle emulator on 127.0.0.1 with a short render latency (the real clock)."""
    with serve(EmulatorConfig(latency_s=1.0)) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock."""
    return FakeClock()


@pytest.fixture
def start(clock: FakeClock) -> Iterator[Start]:
    """Factory of emulators on 127.0.0.1:0 with the fake clock; all stopped (and leak-checked)
    after the test."""
    started = Emulators(clock)
    yield started.start
    started.close()


@pytest.fixture
def emu(start: Start) -> RunningEmulator:
    """One emulator with the harness defaults (no faults)."""
    return start()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """PNG, JPEG, WebP and a 2 s MP4, made once per test module."""
    return Media.make(tmp_path_factory.mktemp("media"))


# -- helpers --------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def video_bytes(folder: Path, name: str, **options: Any) -> bytes:
    """The bytes of :func:`make_video` with ``options`` (seconds, fps, size, container_format)."""
    return make_video(folder / name, **options).read_bytes()


def upload_files(media: Media) -> Files:
    """The multipart files of an on-demand render."""
    return {"ref_image": ("hero.png", media.png), "driving_video": ("dance.mp4", media.video)}


def post(
    emu: RunningEmulator,
    path: str,
    *,
    data: dict[str, str] | None = None,
    files: Files | None = None,
    json: Json | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST to the emulator with the harness key (unless ``headers`` replaces it)."""
    return requests.post(
        f"{emu.url}{path}",
        data=data,
        files=files,
        json=json,
        headers=AUTH if headers is None else headers,
        timeout=TIMEOUT_S,
    )


def get(
    emu: RunningEmulator, path: str, headers: dict[str, str] | None = None
) -> requests.Response:
    """GET from the emulator with the harness key (unless ``headers`` replaces it)."""
    return requests.get(
        f"{emu.url}{path}", headers=AUTH if headers is None else headers, timeout=TIMEOUT_S
    )


def delete(
    emu: RunningEmulator, path: str, headers: dict[str, str] | None = None
) -> requests.Response:
    """DELETE on the emulator with the harness key (unless ``headers`` replaces it)."""
    return requests.delete(
        f"{emu.url}{path}", headers=AUTH if headers is None else headers, timeout=TIMEOUT_S
    )


def error_code(response: requests.Response) -> tuple[int, str | None]:
    """``(HTTP status, detail.error_code)`` of an error response."""
    body = response.json()
    detail = body.get("detail")
    return response.status_code, detail.get("error_code") if isinstance(detail, dict) else None


def render(emu: RunningEmulator, media: Media, **data: str) -> requests.Response:
    """POST an on-demand upload render with form ``data``."""
    return post(emu, "/api/render", files=upload_files(media), data=data)


def status(emu: RunningEmulator, job_id: str) -> Json:
    """The status document of ``job_id`` (asserting a 200)."""
    response = requests.get(f"{emu.url}/api/render/{job_id}", timeout=TIMEOUT_S)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def stats(emu: RunningEmulator) -> Json:
    """``GET /_sim/stats``."""
    body: Json = requests.get(f"{emu.url}/_sim/stats", timeout=TIMEOUT_S).json()
    return body


def upload_submission(job_id: str, image: bytes, video: bytes) -> Json:
    """The ``render_submissions`` entry of an on-demand upload render with default options."""
    return {
        "job_id": job_id,
        "ref_image_sha256": sha256(image),
        "driving_video_sha256": sha256(video),
        "character_id": None,
        "scene_id": None,
        "model": "V4_Preview",
        "fast": False,
        "background_mode": "original",
        "input": "upload",
        "character_mapping": None,
        "credits_reserved": 2,
    }


def balance(emu: RunningEmulator, headers: dict[str, str] | None = None) -> float:
    """The key's balance from ``GET /api/credits``."""
    value = get(emu, "/api/credits", headers).json()["balance"]
    assert isinstance(value, float | int)
    return float(value)


def preprocess(emu: RunningEmulator, media: Media, kind: str, **data: str) -> Json:
    """POST /api/{kind}/preprocess, ``characters`` from the PNG (named hero) or ``scenes`` from
    the 2 s video (named dance), with form ``data``; the answer (asserting a 200)."""
    assert kind in ("characters", "scenes")
    if kind == "characters":
        name, files = "hero", {"image": ("a.png", media.png)}
    else:
        name, files = "dance", {"video": ("dance.mp4", media.video)}
    response = post(emu, f"/api/{kind}/preprocess", data={"name": name, **data}, files=files)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def character(emu: RunningEmulator, media: Media, name: str = "hero") -> str:
    """Preprocess a character from the PNG; return its id (pending)."""
    character_id = preprocess(emu, media, "characters", name=name)["character_id"]
    assert isinstance(character_id, str)
    return character_id


def scene(emu: RunningEmulator, media: Media, **data: str) -> str:
    """Preprocess a scene from the 2 s video with form ``data``; return its id (pending)."""
    scene_id = preprocess(emu, media, "scenes", **data)["scene_id"]
    assert isinstance(scene_id, str)
    return scene_id


def import_template(emu: RunningEmulator, template_id: str) -> Json:
    """Import a template; return the response body."""
    response = post(emu, "/api/scenes/import", json={"template_id": template_id})
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def completed(emu: RunningEmulator, clock: FakeClock, job_id: str) -> Json:
    """Advance the clock past any render latency and return the final status."""
    clock.advance(LATENCY_S * 2)
    return status(emu, job_id)
