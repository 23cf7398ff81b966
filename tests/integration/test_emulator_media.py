"""The emulator validates uploads for real (Pillow, PyAV) and serves real result videos."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from tests.support.emulator import (
    LATENCY_S,
    TIMEOUT_S,
    TRIO_TEMPLATE,
    FakeClock,
    Media,
    completed,
    error_code,
    import_template,
    post,
    render,
    status,
    video_bytes,
)
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.probe import probe_video
from viggle_watch.media.synth import RESULT_FPS, RESULT_SIZE


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for videos made by individual tests."""
    return tmp_path_factory.mktemp("videos")


VIDEO_CASES: dict[str, tuple[dict[str, Any], str | None]] = {
    "mp4": ({"seconds": 1.0}, None),
    "mov": ({"seconds": 1.0, "container_format": "mov"}, None),
    "avi": ({"seconds": 1.0, "container_format": "avi"}, None),
    "mpegts": ({"seconds": 1.0, "container_format": "mpegts"}, "CS-ORIV-003"),
    "matroska": ({"seconds": 1.0, "container_format": "matroska"}, "CS-ORIV-003"),
    "long": ({"seconds": 301.0, "fps": 1, "size": (64, 64)}, "CS-ORIV-004"),
    "wide": ({"seconds": 0.5, "fps": 4, "size": (4100, 64)}, "CS-ORIV-006"),
    "short": ({"seconds": 0.25, "fps": 8}, "CS-UORC01-002"),
    "tiny": ({"seconds": 1.0, "size": (48, 48)}, "CS-UORC01-002"),
}


@pytest.mark.parametrize("case", sorted(VIDEO_CASES))
def test_render_driving_video_limits(
    emu: RunningEmulator, media: Media, folder: Path, case: str
) -> None:
    """MP4/MOV/AVI are accepted; other containers 003, > 5 min 004, > 4096 px 006, tiny 002."""
    options, expected = VIDEO_CASES[case]
    video = video_bytes(folder, f"render-{case}.vid", **options)
    files = {"ref_image": ("a.png", media.png), "driving_video": ("d.vid", video)}
    response = post(emu, "/api/render", files=files)
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert error_code(response) == (400, expected)


@pytest.mark.parametrize(
    ("case", "expected"),
    [("matroska", None), ("mov", None), ("avi", "CS-ORIV-003"), ("short", "CS-UORC01-002")],
)
def test_scene_video_limits(
    emu: RunningEmulator, folder: Path, case: str, expected: str | None
) -> None:
    """Scenes take MP4/MOV/WebM (Matroska) of at least 0.5 s and 64x64."""
    video = video_bytes(folder, f"scene-{case}.vid", **VIDEO_CASES[case][0])
    response = post(
        emu, "/api/scenes/preprocess", data={"name": "s"}, files={"video": ("s.vid", video)}
    )
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert error_code(response) == (400, expected)


def test_unreadable_video_is_rejected(emu: RunningEmulator, media: Media) -> None:
    """Bytes PyAV cannot open, or a cut-off MP4, are 400 CS-ORIV-007."""
    for broken in (b"not a video at all" * 100, media.video[: len(media.video) // 3]):
        files = {"ref_image": ("a.png", media.png), "driving_video": ("d.mp4", broken)}
        assert error_code(post(emu, "/api/render", files=files)) == (400, "CS-ORIV-007")


def test_render_images_are_png_or_jpeg(emu: RunningEmulator, media: Media) -> None:
    """A render accepts PNG and JPEG; WebP and a truncated PNG are 400 CS-UORC01-002."""
    for image, expected in [
        (media.jpeg, 200),
        (media.webp, 400),
        (media.png[: len(media.png) // 2], 400),
    ]:
        files = {"ref_image": ("a.img", image), "driving_video": ("d.mp4", media.video)}
        assert post(emu, "/api/render", files=files).status_code == expected


def test_characters_also_take_webp(emu: RunningEmulator, media: Media) -> None:
    """Character images may be WebP; a text file is 400 CS-UORC01-002."""
    for image, expected in [(media.webp, 200), (b"hello", 400)]:
        response = post(
            emu,
            "/api/characters/preprocess",
            data={"name": "w"},
            files={"image": ("w.img", image)},
        )
        assert response.status_code == expected


def download(url: str) -> bytes:
    """GET a result URL (no key) and return its bytes."""
    response = requests.get(url, timeout=TIMEOUT_S)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "video/mp4")
    return response.content


def test_result_video_lasts_as_long_as_the_driving_video(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """The output is a small real H.264 MP4 as long as the 2 s input (to one frame)."""
    result = completed(emu, clock, render(emu, media).json()["job_id"])
    probe = probe_video(download(result["cdn_url"]))
    assert (probe.width, probe.height, probe.fps) == (*RESULT_SIZE, RESULT_FPS)
    assert probe.duration_s == pytest.approx(2.0, abs=1 / RESULT_FPS)
    assert result["mask_cdn_url"] is None


def test_result_of_a_template_lasts_as_long_as_the_template(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """A render on the 8.5 s trio template produces an 8.5 s video."""
    scene_id = import_template(emu, TRIO_TEMPLATE)["id"]
    character_id = post(
        emu,
        "/api/characters/preprocess",
        data={"name": "c"},
        files={"image": ("c.png", media.png)},
    ).json()["character_id"]
    clock.advance(LATENCY_S)
    mapping = f'{{"person_0c1d2e3f": "{character_id}"}}'
    job = post(emu, "/api/render", data={"scene_id": scene_id, "character_mapping": mapping})
    result = completed(emu, clock, job.json()["job_id"])
    assert probe_video(download(result["cdn_url"])).duration_s == pytest.approx(8.5, abs=0.13)


def test_transparent_render_also_serves_a_mask_video(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """Transparent mode sets mask_cdn_url: a black-and-white MP4 as long as the output."""
    result = completed(
        emu, clock, render(emu, media, background_mode="transparent").json()["job_id"]
    )
    mask = download(result["mask_cdn_url"])
    assert mask != download(result["cdn_url"])
    assert probe_video(mask).duration_s == pytest.approx(2.0, abs=1 / RESULT_FPS)
    with av.open(io.BytesIO(mask), mode="r") as container:
        first = next(iter(container.decode(video=0)))
        frame = first.to_image().convert("L")  # type: ignore[no-untyped-call]  # PyAV stubs
    levels = frame.histogram()  # pixels per grey level 0..255
    assert (sum(levels[:40]) + sum(levels[216:])) / sum(levels) > 0.95


def test_mask_url_of_an_opaque_render_is_404(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """There is no mask for a render that is not transparent."""
    result = completed(emu, clock, render(emu, media).json()["job_id"])
    mask_url = result["cdn_url"].replace(".mp4?", ".mask.mp4?")
    assert requests.get(mask_url, timeout=TIMEOUT_S).status_code == 404


def test_status_urls_are_freshly_signed(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """Each status GET after the wall clock moved returns a newly signed URL that works."""
    job_id = render(emu, media).json()["job_id"]
    first = completed(emu, clock, job_id)["cdn_url"]
    clock.advance(5)
    second = status(emu, job_id)["cdn_url"]
    assert first != second
    assert download(first) == download(second)
