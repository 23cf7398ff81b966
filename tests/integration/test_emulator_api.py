"""The emulator's API over HTTP: render input sets, options, validation, credits, cancel, assets."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.emulator import (
    AUTH,
    DUO_SEGMENTS,
    DUO_TEMPLATE,
    LATENCY_S,
    OTHER_AUTH,
    TIMEOUT_S,
    FakeClock,
    Media,
    character,
    completed,
    error_code,
    get,
    import_template,
    post,
    render,
    scene,
    stats,
    status,
    upload_files,
    upload_submission,
)
from viggle_watch.emulator.server import RunningEmulator

ASSET_WAIT_S = 5.0


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for videos made by individual tests."""
    return tmp_path_factory.mktemp("videos")


def ready_assets(emu: RunningEmulator, media: Media, clock: FakeClock, **scene_data: str) -> Any:
    """A ready character and a ready scene: ``(character_id, scene_id)``."""
    ids = character(emu, media), scene(emu, media, **scene_data)
    clock.advance(ASSET_WAIT_S)
    return ids


# -- input sets -----------------------------------------------------------------------------


def test_upload_render_is_recorded_with_its_options(emu: RunningEmulator, media: Media) -> None:
    """An on-demand upload is accepted as full_pipeline and recorded with hashes and options."""
    body = render(emu, media).json()
    assert (body["status"], body["mode"]) == ("queued", "full_pipeline")
    assert stats(emu)["render_submissions"] == [
        upload_submission(body["job_id"], media.png, media.video)
    ]


def test_url_render_fetches_hosted_files(emu: RunningEmulator, media: Media) -> None:
    """ref_image_url + driving_video_url pointing at /_sim/files are fetched and validated."""
    image_url = emu.host_file("hero.jpg", media.jpeg)
    put = requests.put(f"{emu.url}/_sim/files/dance.mp4", data=media.video, timeout=TIMEOUT_S)
    assert put.status_code == 201
    data = {"ref_image_url": image_url, "driving_video_url": put.json()["url"]}
    response = post(emu, "/api/render", data=data)
    assert response.status_code == 200, response.text
    [submission] = stats(emu)["render_submissions"]
    assert submission["input"] == "url"
    assert submission["ref_image_sha256"] == hashlib.sha256(media.jpeg).hexdigest()
    assert submission["driving_video_sha256"] == hashlib.sha256(media.video).hexdigest()


@pytest.mark.parametrize(
    "url", ["http://example.com/dance.mp4", "ftp://127.0.0.1/x.mp4", "http://127.0.0.1:1/x"]
)
def test_url_render_refuses_foreign_hosts(emu: RunningEmulator, media: Media, url: str) -> None:
    """The emulator never downloads from another host: 400 CS-UORC01-002, nothing charged."""
    data = {"ref_image_url": emu.host_file("a.png", media.png), "driving_video_url": url}
    assert error_code(post(emu, "/api/render", data=data)) == (400, "CS-UORC01-002")
    assert stats(emu)["render_submissions"] == []


def test_url_render_with_a_missing_hosted_file_is_rejected(
    emu: RunningEmulator, media: Media
) -> None:
    """A URL on the emulator that serves nothing is 400 CS-UORC01-002."""
    data = {
        "ref_image_url": emu.host_file("a.png", media.png),
        "driving_video_url": f"{emu.url}/_sim/files/nothing.mp4",
    }
    assert error_code(post(emu, "/api/render", data=data)) == (400, "CS-UORC01-002")


def test_a_result_url_can_drive_the_next_render(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """A signed cdn_url of a finished render is a valid driving_video_url."""
    first = completed(emu, clock, render(emu, media).json()["job_id"])
    data = {
        "ref_image_url": emu.host_file("a.png", media.png),
        "driving_video_url": first["cdn_url"],
    }
    response = post(emu, "/api/render", data=data)
    assert response.status_code == 200, response.text


def test_ids_render_uses_the_scene_model_and_duration(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """character_id + scene_id renders in preprocessed mode with the scene's bound model."""
    character_id, scene_id = ready_assets(emu, media, clock, model="V3_Preview")
    body = post(emu, "/api/render", data={"character_id": character_id, "scene_id": scene_id})
    assert (body.status_code, body.json()["mode"]) == (200, "preprocessed")
    [submission] = stats(emu)["render_submissions"]
    assert submission == {
        "job_id": body.json()["job_id"],
        "ref_image_sha256": hashlib.sha256(media.png).hexdigest(),
        "driving_video_sha256": hashlib.sha256(media.video).hexdigest(),
        "character_id": character_id,
        "scene_id": scene_id,
        "model": "V3_Preview",
        "fast": False,
        "background_mode": "original",
        "input": "ids",
        "character_mapping": None,
        "credits_reserved": 2,
    }


def test_ids_render_rejects_unknown_and_unready_assets(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """Unknown character 008, unknown scene 009, either one not ready yet 010."""
    character_id, scene_id = ready_assets(emu, media, clock)
    fresh_character, fresh_scene = character(emu, media), scene(emu, media)

    def attempt(char: str, scn: str) -> tuple[int, str | None]:
        return error_code(post(emu, "/api/render", data={"character_id": char, "scene_id": scn}))

    assert attempt("char_nope", scene_id) == (400, "CS-ORIV-008")
    assert attempt(character_id, "scene_nope") == (400, "CS-ORIV-009")
    assert attempt(fresh_character, scene_id) == (400, "CS-ORIV-010")
    assert attempt(character_id, fresh_scene) == (400, "CS-ORIV-010")


def test_assets_of_another_key_are_not_found(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """Characters and scenes belong to the key that made them."""
    character_id, scene_id = ready_assets(emu, media, clock)
    data = {"character_id": character_id, "scene_id": scene_id}
    rejected = post(emu, "/api/render", data=data, headers=OTHER_AUTH)
    assert error_code(rejected) == (400, "CS-ORIV-008")
    assert get(emu, f"/api/characters/{character_id}", OTHER_AUTH).status_code == 404


def test_multi_character_render_on_an_imported_template(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """scene_id + character_mapping renders the template (partial mappings and repeats allowed)."""
    scene_id = import_template(emu, DUO_TEMPLATE)["id"]
    alice = character(emu, media, "alice")
    clock.advance(ASSET_WAIT_S)
    mapping = {DUO_SEGMENTS[0]: alice, DUO_SEGMENTS[1]: alice}
    data = {"scene_id": scene_id, "character_mapping": json.dumps(mapping)}
    response = post(emu, "/api/render", data=data)
    assert response.status_code == 200, response.text
    [submission] = stats(emu)["render_submissions"]
    assert (submission["input"], submission["character_mapping"]) == ("multi", mapping)
    assert (submission["credits_reserved"], submission["driving_video_sha256"]) == (6, None)
    partial = {"scene_id": scene_id, "character_mapping": json.dumps({DUO_SEGMENTS[1]: alice})}
    assert post(emu, "/api/render", data=partial).status_code == 200


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ("{not json", "CS-ORIV-012"),
        ('["person_a1b2c3d4"]', "CS-ORIV-012"),
        ('{"person_a1b2c3d4": 7}', "CS-ORIV-012"),
        ('{"person_a1b2c3d4": "char_missing"}', "CS-ORIV-008"),
        ('{"person_ffffffff": "ALICE"}', "CS-UORC01-002"),
        ("{}", "CS-UORC01-002"),
    ],
)
def test_multi_character_mapping_errors(
    emu: RunningEmulator, media: Media, clock: FakeClock, mapping: str, expected: str
) -> None:
    """Bad JSON 012, unknown character 008, unknown segment or empty mapping 002."""
    scene_id = import_template(emu, DUO_TEMPLATE)["id"]
    alice = character(emu, media, "alice")
    clock.advance(ASSET_WAIT_S)
    data = {"scene_id": scene_id, "character_mapping": mapping.replace("ALICE", alice)}
    assert error_code(post(emu, "/api/render", data=data)) == (400, expected)


@pytest.mark.parametrize(
    ("files", "data", "expected"),
    [
        (("driving_video",), {}, "CS-ORIV-001"),
        (("ref_image",), {}, "CS-ORIV-002"),
        ((), {"character_id": "c"}, "CS-ORIV-002"),
        ((), {"scene_id": "s"}, "CS-ORIV-001"),
        ((), {}, "CS-ORIV-001"),
        (("ref_image",), {"scene_id": "s"}, "CS-UORC01-002"),
        (("driving_video",), {"character_id": "c"}, "CS-UORC01-002"),
        (("ref_image", "driving_video"), {"ref_image_url": "http://x/a.png"}, "CS-UORC01-002"),
        (("ref_image", "driving_video"), {"character_id": "c"}, "CS-UORC01-002"),
    ],
)
def test_incomplete_and_mixed_input_sets(
    emu: RunningEmulator,
    media: Media,
    files: tuple[str, ...],
    data: dict[str, str],
    expected: str,
) -> None:
    """One side alone is 001/002; any undocumented mix is 400 CS-UORC01-002."""
    chosen = {name: part for name, part in upload_files(media).items() if name in files}
    response = post(emu, "/api/render", files=chosen, data=data)
    assert error_code(response) == (400, expected)


# -- options --------------------------------------------------------------------------------


def test_model_conflicting_with_the_scene_is_rejected(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """A V4 scene rendered with model=V3_Preview is 400 'model mismatch'; the same model is fine."""
    character_id, scene_id = ready_assets(emu, media, clock)
    data = {"character_id": character_id, "scene_id": scene_id}
    mismatch = post(emu, "/api/render", data={**data, "model": "V3_Preview"})
    assert error_code(mismatch) == (400, "CS-UORC01-002")
    assert "mismatch" in mismatch.json()["detail"]["message"].lower()
    assert post(emu, "/api/render", data={**data, "model": "V4_Preview"}).status_code == 200


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"background_mode": "blurred"}, "CS-ORIV-011"),
        ({"bg_color": "0,255,0"}, "CS-UORC01-002"),
        ({"background_mode": "transparent", "bg_color": "0,255,0"}, "CS-UORC01-002"),
        ({"background_mode": "solid", "bg_color": "#00ff00"}, "CS-UORC01-002"),
        ({"background_mode": "solid", "bg_color": "0,256,0"}, "CS-UORC01-002"),
        ({"fast": "yes"}, "CS-UORC01-002"),
        ({"model": "V9_Turbo"}, "CS-UORC01-002"),
    ],
)
def test_bad_options_are_rejected(
    emu: RunningEmulator, media: Media, data: dict[str, str], expected: str
) -> None:
    """background_mode 011; bg_color only as R,G,B with solid; fast true/false; known models."""
    assert error_code(render(emu, media, **data)) == (400, expected)


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        ({"background_mode": "inpaint"}, "original"),
        ({"background_mode": "solid", "bg_color": "0,255,0"}, "solid"),
        ({"background_mode": "solid"}, "solid"),
        ({"background_mode": "transparent"}, "transparent"),
    ],
)
def test_background_modes_are_recorded(
    emu: RunningEmulator, media: Media, data: dict[str, str], mode: str
) -> None:
    """inpaint is an alias of original; solid takes an R,G,B bg_color."""
    assert render(emu, media, **data).status_code == 200
    assert stats(emu)["render_submissions"][0]["background_mode"] == mode


def test_fast_doubles_the_cost_and_halves_the_time(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """fast=true is mode fast, reserves 2x credits and completes in half the latency."""
    body = render(emu, media, fast="true").json()
    assert body["mode"] == "fast"
    assert stats(emu)["render_submissions"][0]["credits_reserved"] == 4
    clock.advance(LATENCY_S / 2)
    assert status(emu, body["job_id"])["status"] == "complete"


def test_fast_needs_an_uploaded_video_or_a_scene(emu: RunningEmulator, media: Media) -> None:
    """fast=true with URL inputs is 400 CS-UORC01-002."""
    data = {
        "ref_image_url": emu.host_file("a.png", media.png),
        "driving_video_url": emu.host_file("d.mp4", media.video),
        "fast": "true",
    }
    assert error_code(post(emu, "/api/render", data=data)) == (400, "CS-UORC01-002")


# -- auth and routing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/render"),
        ("DELETE", "/api/render/job_x"),
        ("POST", "/api/characters/preprocess"),
        ("GET", "/api/characters"),
        ("GET", "/api/characters/c"),
        ("DELETE", "/api/characters/c"),
        ("POST", "/api/scenes/preprocess"),
        ("POST", "/api/scenes/import"),
        ("GET", "/api/scenes"),
        ("GET", "/api/scenes/s"),
        ("DELETE", "/api/scenes/s"),
        ("GET", "/api/credits"),
    ],
)
def test_every_route_but_status_needs_a_key(emu: RunningEmulator, method: str, path: str) -> None:
    """Without Authorization every /api route except the status GET is 401 (string detail)."""
    response = requests.request(method, f"{emu.url}{path}", timeout=TIMEOUT_S)
    assert (response.status_code, response.json()) == (
        401,
        {"detail": "API key required. Use Authorization: Bearer sk-xxx"},
    )


def test_wrong_method_is_405_with_allow(emu: RunningEmulator) -> None:
    """A known path with another method is 405 and names the allowed methods."""
    response = requests.put(f"{emu.url}/api/render/job_x", headers=AUTH, timeout=TIMEOUT_S)
    assert (response.status_code, response.headers["Allow"]) == (405, "DELETE, GET")
    assert response.json()["detail"]["error_code"] == "CS-UORC01-002"
