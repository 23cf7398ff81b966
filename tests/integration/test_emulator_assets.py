"""The emulator's characters, scenes, templates, credits and cancel, over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.emulator import (
    ASSET_DELAY_S,
    DUO_SEGMENTS,
    DUO_TEMPLATE,
    KEY,
    LATENCY_S,
    OTHER_AUTH,
    SOLO_TEMPLATE,
    FakeClock,
    Media,
    Start,
    character,
    completed,
    delete,
    error_code,
    get,
    import_template,
    post,
    preprocess,
    render,
    scene,
    sha256,
    stats,
    status,
)
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, key_fingerprint, serve
from viggle_watch.errors import ConfigError

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
MISSING_NAME = {"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"}


# -- characters -----------------------------------------------------------------------------


def test_character_goes_pending_processing_ready(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """Preprocess answers pending; GET moves pending -> processing -> ready over asset_delay_s."""
    body = preprocess(emu, media, "characters")
    assert set(body) == {"character_id", "job_id", "status", "enqueued_at"}
    assert (body["status"], re.fullmatch(ISO, body["enqueued_at"]) is not None) == ("pending", True)
    seen = []
    for _ in range(3):
        seen.append(get(emu, f"/api/characters/{body['character_id']}").json())
        clock.advance(ASSET_DELAY_S / 2)
    assert [doc["status"] for doc in seen] == ["pending", "processing", "ready"]
    ready = seen[-1]
    assert ready == {
        "id": body["character_id"],
        "name": "hero",
        "status": "ready",
        "job_id": body["job_id"],
        "error": None,
        "error_message": None,
        "thumbnail_url": None,
        "credits_used": 1,
        "has_v3_encoding": True,
        "has_v4_encoding": True,
        "created_at": body["enqueued_at"],
        "completed_at": ready["completed_at"],
    }
    assert stats(emu)["character_creations"] == [
        {"character_id": body["character_id"], "image_sha256": sha256(media.png)}
    ]


def test_character_from_an_image_url(emu: RunningEmulator, media: Media) -> None:
    """image_url on the emulator's /_sim/files works; image and image_url together do not."""
    url = emu.host_file("h.webp", media.webp)
    assert post(emu, "/api/characters/preprocess", data={"name": "w", "image_url": url}).ok
    both = post(
        emu,
        "/api/characters/preprocess",
        data={"name": "w", "image_url": url},
        files={"image": ("h.png", media.png)},
    )
    assert error_code(both) == (400, "CS-UORC01-002")


def test_character_needs_a_name_and_an_image(emu: RunningEmulator, media: Media) -> None:
    """No name is a FastAPI-style 422 with a list detail; no image is 400 CS-ORIV-001."""
    nameless = post(emu, "/api/characters/preprocess", files={"image": ("h.png", media.png)})
    assert (nameless.status_code, nameless.json()) == (
        422,
        {
            "detail": [
                {"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"}
            ]
        },
    )
    imageless = post(emu, "/api/characters/preprocess", data={"name": "x"})
    assert error_code(imageless) == (400, "CS-ORIV-001")


def test_characters_list_pages_and_soft_delete(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """List pages with limit/offset and a total; a deleted character vanishes everywhere."""
    ids = [character(emu, media, f"c{i}") for i in range(3)]
    clock.advance(ASSET_DELAY_S)
    page = get(emu, "/api/characters?limit=2&offset=1").json()
    assert (page["total"], [c["id"] for c in page["characters"]]) == (3, ids[1:])
    assert set(page["characters"][0]) == {"id", "name", "status", "created_at", "completed_at"}
    assert delete(emu, f"/api/characters/{ids[0]}").json() == {"success": True}
    assert get(emu, f"/api/characters/{ids[0]}").status_code == 404
    assert delete(emu, f"/api/characters/{ids[0]}").status_code == 404
    assert get(emu, "/api/characters").json()["total"] == 2
    assert get(emu, "/api/characters", OTHER_AUTH).json() == {"characters": [], "total": 0}
    scene_id = scene(emu, media)
    clock.advance(ASSET_DELAY_S)
    data = {"character_id": ids[0], "scene_id": scene_id}
    assert error_code(post(emu, "/api/render", data=data)) == (400, "CS-ORIV-008")
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=x"):
        assert error_code(get(emu, f"/api/characters?{bad}")) == (400, "CS-UORC01-002")


# -- scenes ---------------------------------------------------------------------------------


def test_scene_is_bound_to_its_model_and_reports_the_video(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """A scene is pending (facts null), then ready with the probed duration, fps and size."""
    body = preprocess(emu, media, "scenes", model="V3_Preview", background_mode="solid")
    assert (set(body), body["status"]) == (
        {"scene_id", "job_id", "status", "enqueued_at"},
        "pending",
    )
    pending = get(emu, f"/api/scenes/{body['scene_id']}").json()
    assert (pending["status"], pending["duration_seconds"], pending["width"]) == (
        "pending",
        None,
        None,
    )
    clock.advance(ASSET_DELAY_S)
    ready = get(emu, f"/api/scenes/{body['scene_id']}").json()
    facts = {k: ready[k] for k in ("status", "model", "background_mode", "credits_used")}
    assert facts == {
        "status": "ready",
        "model": "V3_Preview",
        "background_mode": "solid",
        "credits_used": 0,
    }
    size = (ready["duration_seconds"], ready["fps"], ready["total_frames"])
    assert (size, ready["width"], ready["height"]) == ((2.0, 12.0, 24), 128, 128)
    assert stats(emu)["scene_creations"] == [
        {
            "scene_id": body["scene_id"],
            "video_sha256": sha256(media.video),
            "model": "V3_Preview",
            "template_id": None,
        }
    ]


@pytest.mark.parametrize(
    ("data", "with_video", "expected"),
    [
        ({"background_mode": "blur"}, True, (400, "CS-ORIV-011")),
        ({"model": "V2"}, True, (400, "CS-UORC01-002")),
        ({}, False, (400, "CS-ORIV-002")),
    ],
)
def test_scene_preprocess_errors(
    emu: RunningEmulator,
    media: Media,
    data: dict[str, str],
    with_video: bool,
    expected: tuple[int, str],
) -> None:
    """Bad background_mode 011, unknown model 002, no video 002 (ORIV)."""
    files = {"video": ("d.mp4", media.video)} if with_video else None
    response = post(emu, "/api/scenes/preprocess", data={"name": "s", **data}, files=files)
    assert error_code(response) == expected


def test_scenes_list_and_delete(emu: RunningEmulator, media: Media, clock: FakeClock) -> None:
    """The scene list has a total; a deleted scene is 404 and cannot be rendered."""
    first, second = scene(emu, media), scene(emu, media)
    clock.advance(ASSET_DELAY_S)
    listed = get(emu, "/api/scenes").json()
    assert (listed["total"], [s["id"] for s in listed["scenes"]]) == (2, [first, second])
    assert listed["scenes"][0]["duration_seconds"] == 2.0
    assert delete(emu, f"/api/scenes/{first}").json() == {"success": True}
    assert get(emu, f"/api/scenes/{first}").status_code == 404
    assert get(emu, "/api/scenes").json()["total"] == 1
    character_id = character(emu, media)
    clock.advance(ASSET_DELAY_S)
    data = {"character_id": character_id, "scene_id": first}
    assert error_code(post(emu, "/api/render", data=data)) == (400, "CS-ORIV-009")


# -- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["template_id", "template_uuid"])
def test_template_import_answers_segments(emu: RunningEmulator, field: str) -> None:
    """Import (template_id or template_uuid) is free and lists the person segments."""
    response = post(emu, "/api/scenes/import", json={field: DUO_TEMPLATE, "name": "Duo"})
    body = response.json()
    assert body == {
        "id": body["id"],
        "status": "pending",
        "credits_reserved": 0,
        "segments": [{"uuid": uuid, "type": "human"} for uuid in DUO_SEGMENTS],
    }
    scene_doc = get(emu, f"/api/scenes/{body['id']}").json()
    assert (scene_doc["name"], scene_doc["template_id"]) == ("Duo", DUO_TEMPLATE)
    assert stats(emu)["scene_creations"][0]["template_id"] == DUO_TEMPLATE


def test_template_import_errors(emu: RunningEmulator) -> None:
    """An unknown template is 404; a body without a template id is 400."""
    assert post(emu, "/api/scenes/import", json={"template_id": "nope"}).status_code == 404
    assert error_code(post(emu, "/api/scenes/import", json={"name": "x"})) == (400, "CS-UORC01-002")
    raw = post(emu, "/api/scenes/import", data={"template_id": DUO_TEMPLATE})
    assert error_code(raw) == (400, "CS-UORC01-002")


def test_video_template_renders_with_a_character(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """A single-person template imports as a scene for an ids render (4 s: 4 credits)."""
    scene_id = import_template(emu, SOLO_TEMPLATE)["id"]
    character_id = character(emu, media)
    clock.advance(ASSET_DELAY_S)
    response = post(emu, "/api/render", data={"character_id": character_id, "scene_id": scene_id})
    assert response.status_code == 200, response.text
    assert stats(emu)["render_submissions"][0]["credits_reserved"] == 4
    multi = import_template(emu, DUO_TEMPLATE)["id"]
    clock.advance(ASSET_DELAY_S)
    refused = post(emu, "/api/render", data={"character_id": character_id, "scene_id": multi})
    assert error_code(refused) == (400, "CS-UORC01-002")


def test_templates_path_replaces_the_table(start: Start, tmp_path: Path) -> None:
    """EmulatorConfig.templates_path loads another table; a bad one fails at serve()."""
    table = tmp_path / "t.yaml"
    table.write_text(
        "templates:\n  - {id: mine, name: Mine, duration_seconds: 3, fps: 24, width: 64,"
        " height: 64, model: V3_Preview, segments: [person_1]}\n",
        encoding="utf-8",
    )
    emu = start(templates_path=table)
    assert post(emu, "/api/scenes/import", json={"template_id": "mine"}).ok
    other = post(emu, "/api/scenes/import", json={"template_id": DUO_TEMPLATE})
    assert other.status_code == 404
    table.write_text("templates: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"templates\.0"):
        serve(EmulatorConfig(templates_path=table))


# -- credits and cancel ---------------------------------------------------------------------


def test_credits_reserve_at_submit_per_key(emu: RunningEmulator, media: Media) -> None:
    """A 2 s render reserves 2 credits, a character 1, a scene 0, each on its own key."""
    render(emu, media)
    character(emu, media)
    scene(emu, media)
    body = get(emu, "/api/credits").json()
    assert {k: body[k] for k in ("balance", "credits", "total_purchased", "total_used")} == {
        "balance": 9997.0,
        "credits": 9997.0,
        "total_purchased": 10000.0,
        "total_used": 3.0,
    }
    assert re.fullmatch(ISO, body["updated_at"])
    assert get(emu, "/api/credits", OTHER_AUTH).json()["balance"] == 10000.0
    counted = stats(emu)
    assert (counted["credits_spent"], counted["balance"]) == (3.0, None)
    assert counted["balances"] == {
        key_fingerprint(KEY): 9997.0,
        key_fingerprint(OTHER_AUTH["Authorization"].removeprefix("Bearer ")): 10000.0,
    }
    assert KEY not in str(counted)


def test_short_balance_is_402(start: Start, media: Media) -> None:
    """With 2 credits: a 2 s render fits, then a render and a character are 402 CS-UORC01-008."""
    emu = start(balance=2.0)
    assert render(emu, media).status_code == 200
    assert error_code(render(emu, media)) == (402, "CS-UORC01-008")
    refused = post(
        emu, "/api/characters/preprocess", data={"name": "c"}, files={"image": ("c.png", media.png)}
    )
    assert error_code(refused) == (402, "CS-UORC01-008")
    assert len(stats(emu)["render_submissions"]) == 1
    assert stats(emu)["balance"] == 0.0


def test_cancel_refunds_and_ends_the_job(
    emu: RunningEmulator, media: Media, clock: FakeClock
) -> None:
    """DELETE on a running job: 200 with status cancelled, credits back, stays cancelled."""
    job_id = render(emu, media).json()["job_id"]
    clock.advance(LATENCY_S / 2)
    cancelled = delete(emu, f"/api/render/{job_id}")
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert (body["status"], body["cdn_url"], body["completed_at"] is not None) == (
        "cancelled",
        None,
        True,
    )
    assert get(emu, "/api/credits").json()["balance"] == 10000.0
    assert completed(emu, clock, job_id)["status"] == "cancelled"
    again = delete(emu, f"/api/render/{job_id}")
    assert (again.status_code, again.json()["detail"]["message"]) == (
        409,
        "Job is already cancelled",
    )


def test_cancel_refusals(emu: RunningEmulator, media: Media, clock: FakeClock) -> None:
    """Cancel is 409 for a complete job, 404 for an unknown one or another key's."""
    done = render(emu, media).json()["job_id"]
    assert completed(emu, clock, done)["status"] == "complete"
    assert delete(emu, f"/api/render/{done}").status_code == 409
    assert delete(emu, "/api/render/job_nope").status_code == 404
    running = render(emu, media).json()["job_id"]
    assert delete(emu, f"/api/render/{running}", OTHER_AUTH).status_code == 404
    assert status(emu, running)["status"] == "queued"
