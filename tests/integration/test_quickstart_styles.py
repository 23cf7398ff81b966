"""The three request styles of the Viggle quick-start docs, written as a plain ``requests``
user would write them, against the emulator: on-demand upload; preprocess a character and a
scene, then render by ids; import a template, then render with ``character_mapping``.

The emulator runs on its real clock with tiny latencies; polling is bounded by ``wait_for``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.waits import wait_for
from tests.support.workspace import KEY
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.probe import video_duration_s
from viggle_watch.media.synth import make_character_png, make_driving_mp4

HEADERS = {"Authorization": f"Bearer {KEY}"}
TIMEOUT_S = 10.0
POLL_LIMIT_S = 10.0
DUO_TEMPLATE = "770e8400-e29b-41d4-a716-446655440000"
Json = dict[str, Any]


@pytest.fixture
def base() -> Iterator[str]:
    """The base URL of an emulator whose renders and assets finish within a fraction of a s."""
    with serve(EmulatorConfig(latency_s=0.3, asset_delay_s=0.2)) as running:
        yield running.url


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``character.png`` and a 2 s ``dance.mp4``, as a user would have them on disk."""
    folder = tmp_path_factory.mktemp("quickstart")
    image = make_character_png(folder / "character.png")
    video = make_driving_mp4(folder / "dance.mp4", seconds=2.0)
    return image, video


def poll(url: str, done: set[str], headers: dict[str, str] | None = None) -> Json:
    """GET ``url`` until its ``status`` is one of ``done`` (bounded); return the last body."""
    last: Json = {}

    def finished() -> bool:
        nonlocal last
        response = requests.get(url, headers=headers, timeout=TIMEOUT_S)
        response.raise_for_status()
        last = response.json()
        return last["status"] in done

    wait_for(finished, timeout_s=POLL_LIMIT_S, what=url)
    return last


def wait_for_render(base: str, job_id: str) -> Json:
    """Poll the render (no key needed, per the docs) until it ends; it must be complete."""
    result = poll(f"{base}/api/render/{job_id}", {"complete", "failed", "cancelled"})
    assert result["status"] == "complete", result
    return result


def download(url: str, path: Path) -> Path:
    """Stream ``url`` to ``path`` the way the docs do (no key sent to the CDN)."""
    with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
        response.raise_for_status()
        with path.open("wb") as f:
            for chunk in response.iter_content(chunk_size=8192):
                f.write(chunk)
    return path


def cdn_requests_with_auth(base: str) -> int:
    """How many CDN requests carried a key (must stay 0)."""
    count: int = requests.get(f"{base}/_sim/stats", timeout=TIMEOUT_S).json()[
        "cdn_requests_with_auth"
    ]
    return count


def rendered(base: str, response: requests.Response, path: Path) -> tuple[Json, float]:
    """The render ``response`` started, polled until it ends and downloaded to ``path`` (no key
    sent to the CDN): the job it answered and the video's duration."""
    response.raise_for_status()
    job: Json = response.json()
    result = wait_for_render(base, job["job_id"])
    saved = download(result["cdn_url"], path)
    assert cdn_requests_with_auth(base) == 0
    return job, video_duration_s(saved)


def settled(base: str, *assets: str) -> list[str]:
    """Poll each asset (``characters/ID``, ``scenes/ID``) until ready or failed; its status."""
    return [poll(f"{base}/api/{a}", {"ready", "failed"}, HEADERS)["status"] for a in assets]


def preprocess_character(base: str, image: Path) -> str:
    """Upload ``image`` as the character Alice, as the docs do; its id."""
    with image.open("rb") as f:
        character_id: str = requests.post(
            f"{base}/api/characters/preprocess",
            headers=HEADERS,
            files={"image": f},
            data={"name": "Alice"},
            timeout=TIMEOUT_S,
        ).json()["character_id"]
    return character_id


def test_on_demand_upload(base: str, files: tuple[Path, Path], tmp_path: Path) -> None:
    """Upload a character image and a driving video in one render request; poll; download."""
    image, video = files
    with image.open("rb") as ref_image, video.open("rb") as driving_video:
        response = requests.post(
            f"{base}/api/render",
            headers=HEADERS,
            files={"ref_image": ref_image, "driving_video": driving_video},
            data={"model": "V4_Preview", "background_mode": "original"},
            timeout=TIMEOUT_S,
        )
    job, duration = rendered(base, response, tmp_path / "result.mp4")
    assert (job["status"], job["mode"]) == ("queued", "full_pipeline")
    assert duration == pytest.approx(2.0, abs=0.2)


def test_preprocess_character_and_scene_then_render_by_ids(
    base: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Preprocess a character and a scene, poll both until ready, render by their ids."""
    image, video = files
    with video.open("rb") as f:
        scene = requests.post(
            f"{base}/api/scenes/preprocess",
            headers=HEADERS,
            files={"video": f},
            data={"name": "Dance Sequence", "model": "V4_Preview"},
            timeout=TIMEOUT_S,
        ).json()
    character_id, scene_id = preprocess_character(base, image), scene["scene_id"]
    assert settled(base, f"characters/{character_id}", f"scenes/{scene_id}") == ["ready"] * 2
    response = requests.post(
        f"{base}/api/render",
        headers=HEADERS,
        data={"character_id": character_id, "scene_id": scene_id},
        timeout=TIMEOUT_S,
    )
    job, duration = rendered(base, response, tmp_path / "result.mp4")
    assert job["mode"] == "preprocessed"
    assert duration == pytest.approx(2.0, abs=0.2)


def test_import_template_then_render_with_character_mapping(
    base: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Import a multi-person template, map a character onto one person, render, download."""
    image, _ = files
    imported = requests.post(
        f"{base}/api/scenes/import",
        headers=HEADERS,
        json={"template_id": DUO_TEMPLATE, "name": "Group Dance"},
        timeout=TIMEOUT_S,
    ).json()
    scene_id = imported["id"]
    people = [segment["uuid"] for segment in imported["segments"]]
    assert people == ["person_a1b2c3d4", "person_e5f6a7b8"]
    character_id = preprocess_character(base, image)
    assert settled(base, f"scenes/{scene_id}", f"characters/{character_id}") == ["ready"] * 2
    response = requests.post(
        f"{base}/api/render",
        headers=HEADERS,
        data={
            "scene_id": scene_id,
            "character_mapping": json.dumps({people[0]: character_id}),
        },
        timeout=TIMEOUT_S,
    )
    _, duration = rendered(base, response, tmp_path / "group.mp4")
    assert duration == pytest.approx(6.0, abs=0.2)
