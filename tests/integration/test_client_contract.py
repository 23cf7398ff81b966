"""The real ViggleClient against the emulator over 127.0.0.1: renders (every input set), their
options, status, cancel and download. Characters, scenes, credits, refusals and the legacy
dialect: ``test_client_assets.py``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import (
    DRIVING_S,
    DUO_S,
    DUO_SEGMENTS,
    DUO_TEMPLATE,
    ClientMedia,
    CountingSession,
    calls,
    fetch,
    finished,
    ready_assets,
    ready_character,
)
from tests.support.emulator import LATENCY_S, FakeClock, sha256, upload_submission
from viggle_watch.emulator.config import DEFAULT_BALANCE
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.errors import NotFoundError, RejectedError
from viggle_watch.media.probe import video_duration_s
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.inputs import IdsInput, MultiInput, RenderOptions, UploadInput, UrlInput
from viggle_watch.viggle.schemas import RenderCreated

DURATION_TOLERANCE_S = 0.2


def submission(emu: RunningEmulator, job_id: str, client_media: ClientMedia, **fields: Any) -> None:
    """Assert the emulator recorded ``job_id`` as an upload/url render of the media + ``fields``."""
    expected = upload_submission(job_id, client_media.png_bytes, client_media.mp4_bytes)
    assert emu.emulator.stats()["render_submissions"] == [{**expected, **fields}]


def duration_s(data: bytes) -> float:
    """The duration of the MP4 ``data`` (written to a temporary folder to be probed)."""
    with tempfile.TemporaryDirectory(prefix="viggle-result-") as folder:
        path = Path(folder) / "result.mp4"
        path.write_bytes(data)
        return video_duration_s(path)


# renders: the four input sets ------------------------------------------------------------


def test_render_by_upload(
    client: ViggleClient, emu: RunningEmulator, client_media: ClientMedia
) -> None:
    """An on-demand upload render is queued in full_pipeline mode with both files sent."""
    created = client.render(UploadInput(client_media.png, client_media.mp4))
    assert created == RenderCreated(job_id=created.job_id, status="queued", mode="full_pipeline")
    submission(emu, created.job_id, client_media)
    assert calls(emu) == {"POST /api/render": 1}


def test_render_by_url(
    client: ViggleClient, emu: RunningEmulator, client_media: ClientMedia
) -> None:
    """A URL render makes the API fetch both files (hosted on the emulator)."""
    image_url = emu.host_file("hero.png", client_media.png_bytes)
    video_url = emu.host_file("dance.mp4", client_media.mp4_bytes)
    created = client.render(UrlInput(image_url, video_url))
    assert (created.status, created.mode) == ("queued", "full_pipeline")
    submission(emu, created.job_id, client_media, input="url")


def test_render_by_ids(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """A ready character and a ready scene render in preprocessed mode; pending ones wait."""
    character = client.create_character("hero", client_media.png)
    scene = client.create_scene("dance", client_media.mp4)
    assert (character.status, scene.status) == ("pending", "pending")
    assert not client.get_character(character.id).terminal
    assert not client.get_scene(scene.id).terminal
    ready_assets(clock)
    got_character, got_scene = client.get_character(character.id), client.get_scene(scene.id)
    assert (got_character.status, got_character.name, got_character.terminal) == (
        "ready",
        "hero",
        True,
    )
    facts = (got_scene.status, got_scene.duration_seconds, got_scene.fps, got_scene.total_frames)
    assert facts == ("ready", DRIVING_S, 12, 24)
    assert (got_scene.width, got_scene.height, got_scene.segments) == (128, 128, [])
    created = client.render(IdsInput(character.id, scene.id))
    assert (created.status, created.mode) == ("queued", "preprocessed")
    [recorded] = emu.emulator.stats()["render_submissions"]
    assert (recorded["input"], recorded["character_id"], recorded["scene_id"]) == (
        "ids",
        character.id,
        scene.id,
    )
    assert finished(client, clock, created.job_id).status == "complete"


def test_assets_from_urls(
    client: ViggleClient, emu: RunningEmulator, client_media: ClientMedia
) -> None:
    """Characters and scenes can be preprocessed from URLs the API fetches itself."""
    character = client.create_character("hero", emu.host_file("hero.png", client_media.png_bytes))
    scene = client.create_scene("dance", emu.host_file("dance.mp4", client_media.mp4_bytes))
    stats = emu.emulator.stats()
    assert stats["character_creations"] == [
        {"character_id": character.id, "image_sha256": sha256(client_media.png_bytes)}
    ]
    assert stats["scene_creations"] == [
        {
            "scene_id": scene.id,
            "video_sha256": sha256(client_media.mp4_bytes),
            "model": "V4_Preview",
            "template_id": None,
        }
    ]


def test_render_multi_person_with_partial_mapping(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """A multi-person template renders with one of its two people mapped; output as long."""
    imported = client.import_template(DUO_TEMPLATE, name="Group Dance")
    assert (imported.status, imported.segments) == ("pending", DUO_SEGMENTS)
    character = ready_character(client, clock, client_media)
    scene = client.get_scene(imported.id)
    assert (scene.status, scene.name, scene.segments, scene.duration_seconds) == (
        "ready",
        "Group Dance",
        DUO_SEGMENTS,
        DUO_S,
    )
    mapping = {DUO_SEGMENTS[0]: character}
    created = client.render(MultiInput(imported.id, mapping))
    [recorded] = emu.emulator.stats()["render_submissions"]
    assert (recorded["input"], recorded["character_mapping"], recorded["credits_reserved"]) == (
        "multi",
        mapping,
        6,
    )
    done = finished(client, clock, created.job_id)
    assert done.status == "complete" and done.cdn_url is not None
    data, _ = fetch(client, done.cdn_url)
    assert duration_s(data) == pytest.approx(DUO_S, abs=DURATION_TOLERANCE_S)


# render options ---------------------------------------------------------------------------


def test_option_model(
    client: ViggleClient, emu: RunningEmulator, client_media: ClientMedia
) -> None:
    """An on-demand render sends the model asked for."""
    created = client.render(
        UploadInput(client_media.png, client_media.mp4), RenderOptions(model="V3_Preview")
    )
    submission(emu, created.job_id, client_media, model="V3_Preview")


def test_option_solid_background_with_color(
    client: ViggleClient, emu: RunningEmulator, client_media: ClientMedia
) -> None:
    """``solid`` with an R,G,B colour (spaces tolerated) is accepted by the API."""
    options = RenderOptions(background_mode="solid", bg_color=" 0, 255 ,0 ")
    created = client.render(UploadInput(client_media.png, client_media.mp4), options)
    submission(emu, created.job_id, client_media, background_mode="solid")


def test_option_transparent_has_a_mask_video(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """A transparent render also has ``mask_cdn_url``; both videos download (without the key)."""
    options = RenderOptions(background_mode="transparent")
    created = client.render(UploadInput(client_media.png, client_media.mp4), options)
    submission(emu, created.job_id, client_media, background_mode="transparent")
    done = finished(client, clock, created.job_id)
    assert done.cdn_url is not None and done.mask_cdn_url is not None
    video, _ = fetch(client, done.cdn_url)
    mask, summary = fetch(client, done.mask_cdn_url)
    assert (summary.size, summary.sha256) == (len(mask), sha256(mask))
    assert mask != video
    assert duration_s(mask) == pytest.approx(DRIVING_S, abs=DURATION_TOLERANCE_S)
    assert emu.emulator.stats()["cdn_requests_with_auth"] == 0


def test_option_fast(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """``fast`` costs twice the credits and takes half the time."""
    created = client.render(
        UploadInput(client_media.png, client_media.mp4), RenderOptions(fast=True)
    )
    assert created.mode == "fast"
    submission(emu, created.job_id, client_media, fast=True, credits_reserved=4)
    assert client.credits().balance == DEFAULT_BALANCE - 4
    clock.advance(LATENCY_S / 2)
    assert client.get_render(created.job_id).status == "complete"


@pytest.mark.parametrize(
    ("urls", "options"),
    [
        (False, RenderOptions(bg_color="0,0,0")),
        (False, RenderOptions(background_mode="transparent", bg_color="0,0,0")),
        (False, RenderOptions(background_mode="solid", bg_color="256,0,0")),
        (False, RenderOptions(background_mode="solid", bg_color="#00ff00")),
        (False, RenderOptions(background_mode="chroma")),
        (False, RenderOptions(model="V5_Preview")),
        (True, RenderOptions(fast=True)),
    ],
)
def test_options_refused_client_side_send_nothing(
    client: ViggleClient,
    emu: RunningEmulator,
    session: CountingSession,
    client_media: ClientMedia,
    urls: bool,
    options: RenderOptions,
) -> None:
    """Options the API would refuse are RejectedError(client_validation), with zero requests."""
    render_input = (
        UrlInput("http://127.0.0.1:9/a.png", "http://127.0.0.1:9/b.mp4")
        if urls
        else UploadInput(client_media.png, client_media.mp4)
    )
    with pytest.raises(RejectedError) as caught:
        client.render(render_input, options)
    assert (caught.value.code, caught.value.http_status) == ("client_validation", None)
    assert (calls(emu), session.sent) == ({}, [])


# status, cancel, download -----------------------------------------------------------------


def test_get_render_lifecycle_and_download(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """queued → processing → complete; the result is an MP4 as long as the driving video."""
    created = client.render(UploadInput(client_media.png, client_media.mp4))
    queued = client.get_render(created.job_id)
    assert (queued.status, queued.progress_pct, queued.cdn_url, queued.terminal) == (
        "queued",
        0,
        None,
        False,
    )
    clock.advance(LATENCY_S / 2)
    running = client.get_render(created.job_id)
    assert (running.status, running.terminal, running.cdn_url) == ("processing", False, None)
    assert running.progress_pct is not None and 0 < running.progress_pct < 100
    assert running.checkpoint in ("ref_done", "dri_done", "bg_done", "render_done")
    done = finished(client, clock, created.job_id)
    assert (done.status, done.progress_pct, done.checkpoint, done.terminal) == (
        "complete",
        100,
        "render_done",
        True,
    )
    assert done.cdn_url is not None and done.download_url == done.cdn_url == done.result_url
    assert done.mask_cdn_url is None
    data, summary = fetch(client, done.cdn_url)
    assert (summary.size, summary.sha256) == (len(data), sha256(data))
    assert duration_s(data) == pytest.approx(DRIVING_S, abs=DURATION_TOLERANCE_S)
    assert emu.emulator.stats()["cdn_requests_with_auth"] == 0


def test_cancel_refunds_the_credits(
    client: ViggleClient, clock: FakeClock, client_media: ClientMedia
) -> None:
    """Cancelling a running render ends it ``cancelled`` and gives its credits back."""
    before = client.credits().balance
    created = client.render(UploadInput(client_media.png, client_media.mp4))
    assert client.credits().balance == before - 2
    clock.advance(LATENCY_S / 2)
    cancelled = client.cancel_render(created.job_id)
    assert cancelled is not None and (cancelled.job_id, cancelled.status) == (
        created.job_id,
        "cancelled",
    )
    later = finished(client, clock, created.job_id)
    assert (later.status, later.terminal, later.cdn_url) == ("cancelled", True, None)
    assert client.credits().balance == before


def test_cancel_of_a_finished_render_is_rejected(
    client: ViggleClient, clock: FakeClock, client_media: ClientMedia
) -> None:
    """A complete render cannot be cancelled (409) and an unknown one is not found."""
    created = client.render(UploadInput(client_media.png, client_media.mp4))
    finished(client, clock, created.job_id)
    with pytest.raises(RejectedError) as caught:
        client.cancel_render(created.job_id)
    assert caught.value.http_status == 409
    with pytest.raises(NotFoundError):
        client.cancel_render("job_unknown")
    with pytest.raises(NotFoundError):
        client.get_render("job_unknown")
