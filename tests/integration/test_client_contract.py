"""The real ViggleClient against the emulator over 127.0.0.1: every endpoint and variant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from test_client_harness import (
    DRIVING_S,
    DUO_S,
    DUO_SEGMENTS,
    DUO_TEMPLATE,
    KEY,
    ClientMedia,
    CountingSession,
    calls,
    fetch,
    finished,
    make_client,
    ready_assets,
)
from test_client_harness import media as media
from test_client_harness import session as session
from test_emulator_harness import LATENCY_S, SOLO_TEMPLATE, FakeClock, Start, sha256
from test_emulator_harness import clock as clock
from test_emulator_harness import emu as emu
from test_emulator_harness import start as start

from viggle_watch.emulator.config import DEFAULT_BALANCE
from viggle_watch.emulator.server import Faults, RunningEmulator
from viggle_watch.emulator.stats import RenderSubmission
from viggle_watch.errors import (
    ApiError,
    AuthError,
    CreditsError,
    FastUnavailableError,
    NotFoundError,
    RejectedError,
)
from viggle_watch.media.probe import video_duration_s
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.inputs import IdsInput, MultiInput, RenderOptions, UploadInput, UrlInput
from viggle_watch.viggle.schemas import Credits, RenderCreated

DURATION_TOLERANCE_S = 0.2


@pytest.fixture
def client(emu: RunningEmulator, session: CountingSession) -> ViggleClient:
    """The real client on ``emu``."""
    return make_client(emu.url, session)


def submission(emu: RunningEmulator, job_id: str, media: ClientMedia, **fields: Any) -> None:
    """Assert the emulator recorded ``job_id`` as an upload/url render of ``media`` + ``fields``."""
    expected = RenderSubmission(
        job_id=job_id,
        ref_image_sha256=sha256(media.png_bytes),
        driving_video_sha256=sha256(media.mp4_bytes),
        character_id=None,
        scene_id=None,
        model="V4_Preview",
        fast=False,
        background_mode="original",
        input="upload",
        character_mapping=None,
        credits_reserved=2,
    )
    expected.update(fields)  # type: ignore[typeddict-item]
    assert emu.emulator.stats()["render_submissions"] == [expected]


def duration_s(data: bytes, folder: Path) -> float:
    """The duration of the MP4 ``data`` (written to ``folder``)."""
    path = folder / f"result-{sha256(data)[:8]}.mp4"
    path.write_bytes(data)
    return video_duration_s(path)


def ready_character(client: ViggleClient, clock: FakeClock, media: ClientMedia) -> str:
    """Preprocess a character from the PNG and wait (fake clock) until it is ready."""
    created = client.create_character("hero", media.png)
    ready_assets(clock)
    assert client.get_character(created.id).status == "ready"
    return created.id


# renders: the four input sets ------------------------------------------------------------


def test_render_by_upload(client: ViggleClient, emu: RunningEmulator, media: ClientMedia) -> None:
    """An on-demand upload render is queued in full_pipeline mode with both files sent."""
    created = client.render(UploadInput(media.png, media.mp4))
    assert created == RenderCreated(job_id=created.job_id, status="queued", mode="full_pipeline")
    submission(emu, created.job_id, media)
    assert calls(emu) == {"POST /api/render": 1}


def test_render_by_url(client: ViggleClient, emu: RunningEmulator, media: ClientMedia) -> None:
    """A URL render makes the API fetch both files (hosted on the emulator)."""
    image_url = emu.host_file("hero.png", media.png_bytes)
    video_url = emu.host_file("dance.mp4", media.mp4_bytes)
    created = client.render(UrlInput(image_url, video_url))
    assert (created.status, created.mode) == ("queued", "full_pipeline")
    submission(emu, created.job_id, media, input="url")


def test_render_by_ids(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, media: ClientMedia
) -> None:
    """A ready character and a ready scene render in preprocessed mode; pending ones wait."""
    character = client.create_character("hero", media.png)
    scene = client.create_scene("dance", media.mp4)
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


def test_assets_from_urls(client: ViggleClient, emu: RunningEmulator, media: ClientMedia) -> None:
    """Characters and scenes can be preprocessed from URLs the API fetches itself."""
    character = client.create_character("hero", emu.host_file("hero.png", media.png_bytes))
    scene = client.create_scene("dance", emu.host_file("dance.mp4", media.mp4_bytes))
    stats = emu.emulator.stats()
    assert stats["character_creations"] == [
        {"character_id": character.id, "image_sha256": sha256(media.png_bytes)}
    ]
    assert stats["scene_creations"] == [
        {
            "scene_id": scene.id,
            "video_sha256": sha256(media.mp4_bytes),
            "model": "V4_Preview",
            "template_id": None,
        }
    ]


def test_render_multi_person_with_partial_mapping(
    client: ViggleClient,
    emu: RunningEmulator,
    clock: FakeClock,
    media: ClientMedia,
    tmp_path: Path,
) -> None:
    """A multi-person template renders with one of its two people mapped; output as long."""
    imported = client.import_template(DUO_TEMPLATE, name="Group Dance")
    assert (imported.status, imported.segments) == ("pending", DUO_SEGMENTS)
    character = ready_character(client, clock, media)
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
    assert duration_s(data, tmp_path) == pytest.approx(DUO_S, abs=DURATION_TOLERANCE_S)


# render options ---------------------------------------------------------------------------


def test_option_model(client: ViggleClient, emu: RunningEmulator, media: ClientMedia) -> None:
    """An on-demand render sends the model asked for."""
    created = client.render(UploadInput(media.png, media.mp4), RenderOptions(model="V3_Preview"))
    submission(emu, created.job_id, media, model="V3_Preview")


def test_option_solid_background_with_color(
    client: ViggleClient, emu: RunningEmulator, media: ClientMedia
) -> None:
    """``solid`` with an R,G,B colour (spaces tolerated) is accepted by the API."""
    options = RenderOptions(background_mode="solid", bg_color=" 0, 255 ,0 ")
    created = client.render(UploadInput(media.png, media.mp4), options)
    submission(emu, created.job_id, media, background_mode="solid")


def test_option_transparent_has_a_mask_video(
    client: ViggleClient,
    emu: RunningEmulator,
    clock: FakeClock,
    media: ClientMedia,
    tmp_path: Path,
) -> None:
    """A transparent render also has ``mask_cdn_url``; both videos download (without the key)."""
    options = RenderOptions(background_mode="transparent")
    created = client.render(UploadInput(media.png, media.mp4), options)
    submission(emu, created.job_id, media, background_mode="transparent")
    done = finished(client, clock, created.job_id)
    assert done.cdn_url is not None and done.mask_cdn_url is not None
    video, _ = fetch(client, done.cdn_url)
    mask, summary = fetch(client, done.mask_cdn_url)
    assert (summary.size, summary.sha256) == (len(mask), sha256(mask))
    assert mask != video
    assert duration_s(mask, tmp_path) == pytest.approx(DRIVING_S, abs=DURATION_TOLERANCE_S)
    assert emu.emulator.stats()["cdn_requests_with_auth"] == 0


def test_option_fast(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, media: ClientMedia
) -> None:
    """``fast`` costs twice the credits and takes half the time."""
    created = client.render(UploadInput(media.png, media.mp4), RenderOptions(fast=True))
    assert created.mode == "fast"
    submission(emu, created.job_id, media, fast=True, credits_reserved=4)
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
    media: ClientMedia,
    urls: bool,
    options: RenderOptions,
) -> None:
    """Options the API would refuse are RejectedError(client_validation), with zero requests."""
    render_input = (
        UrlInput("http://127.0.0.1:9/a.png", "http://127.0.0.1:9/b.mp4")
        if urls
        else UploadInput(media.png, media.mp4)
    )
    with pytest.raises(RejectedError) as caught:
        client.render(render_input, options)
    assert (caught.value.code, caught.value.http_status) == ("client_validation", None)
    assert (calls(emu), session.sent) == ({}, [])


# status, cancel, download -----------------------------------------------------------------


def test_get_render_lifecycle_and_download(
    client: ViggleClient,
    emu: RunningEmulator,
    clock: FakeClock,
    media: ClientMedia,
    tmp_path: Path,
) -> None:
    """queued → processing → complete; the result is an MP4 as long as the driving video."""
    created = client.render(UploadInput(media.png, media.mp4))
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
    assert duration_s(data, tmp_path) == pytest.approx(DRIVING_S, abs=DURATION_TOLERANCE_S)
    assert emu.emulator.stats()["cdn_requests_with_auth"] == 0


def test_cancel_refunds_the_credits(
    client: ViggleClient, clock: FakeClock, media: ClientMedia
) -> None:
    """Cancelling a running render ends it ``cancelled`` and gives its credits back."""
    before = client.credits().balance
    created = client.render(UploadInput(media.png, media.mp4))
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
    client: ViggleClient, clock: FakeClock, media: ClientMedia
) -> None:
    """A complete render cannot be cancelled (409) and an unknown one is not found."""
    created = client.render(UploadInput(media.png, media.mp4))
    finished(client, clock, created.job_id)
    with pytest.raises(RejectedError) as caught:
        client.cancel_render(created.job_id)
    assert caught.value.http_status == 409
    with pytest.raises(NotFoundError):
        client.cancel_render("job_unknown")
    with pytest.raises(NotFoundError):
        client.get_render("job_unknown")


# characters, scenes, credits --------------------------------------------------------------


def test_characters_list_get_delete(
    client: ViggleClient, emu: RunningEmulator, media: ClientMedia
) -> None:
    """Characters are listed (paged), fetched, deleted; a deleted one is NotFoundError."""
    alice = client.create_character("alice", media.png).id
    bob = client.create_character("bob", media.png).id
    page = client.list_characters()
    assert ([c.id for c in page.characters], [c.name for c in page.characters], page.total) == (
        [alice, bob],
        ["alice", "bob"],
        2,
    )
    second = client.list_characters(limit=1, offset=1)
    assert ([c.id for c in second.characters], second.total) == ([bob], 2)
    assert [c.id for c in client.iter_characters()] == [alice, bob]
    assert client.get_character(alice).name == "alice"
    client.delete_character(alice)
    with pytest.raises(NotFoundError) as caught:
        client.get_character(alice)
    assert caught.value.http_status == 404
    with pytest.raises(NotFoundError):
        client.delete_character(alice)
    assert [c.id for c in client.iter_characters()] == [bob]
    assert client.credits().balance == DEFAULT_BALANCE - 2  # 1 each, not refunded on delete


def test_scenes_list_get_delete(client: ViggleClient, clock: FakeClock, media: ClientMedia) -> None:
    """Scenes (preprocessed and imported) are listed, fetched and deleted; free of charge."""
    dance = client.create_scene("dance", media.mp4).id
    solo = client.import_template(SOLO_TEMPLATE).id
    ready_assets(clock)
    page = client.list_scenes()
    assert ([s.id for s in page.scenes], [s.name for s in page.scenes], page.total) == (
        [dance, solo],
        ["dance", "Solo Groove"],
        2,
    )
    assert [s.status for s in page.scenes] == ["ready", "ready"]
    assert client.list_scenes(limit=1, offset=1).scenes[0].id == solo
    got = client.get_scene(solo)
    assert (got.name, got.duration_seconds, got.segments) == ("Solo Groove", 4.0, [])
    client.delete_scene(dance)
    with pytest.raises(NotFoundError):
        client.get_scene(dance)
    with pytest.raises(NotFoundError):
        client.delete_scene(dance)
    assert [s.id for s in client.list_scenes().scenes] == [solo]
    assert client.credits().balance == DEFAULT_BALANCE


def test_scene_model_is_used_for_its_renders(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, media: ClientMedia
) -> None:
    """A scene bound to V3 renders with V3 when no model is asked for."""
    scene = client.create_scene("dance", media.mp4, model="V3_Preview").id
    character = ready_character(client, clock, media)
    client.render(IdsInput(character, scene))
    [recorded] = emu.emulator.stats()["render_submissions"]
    assert recorded["model"] == "V3_Preview"


def test_scene_bound_to_v3_rendered_with_v4_is_rejected(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, media: ClientMedia
) -> None:
    """Asking a V3 scene for a V4 render is a typed RejectedError, and nothing is charged."""
    scene = client.create_scene("dance", media.mp4, model="V3_Preview").id
    character = ready_character(client, clock, media)
    with pytest.raises(RejectedError) as caught:
        client.render(IdsInput(character, scene), RenderOptions(model="V4_Preview"))
    assert (caught.value.http_status, caught.value.code) == (400, "CS-UORC01-002")
    assert emu.emulator.stats()["render_submissions"] == []


def test_credits(client: ViggleClient, media: ClientMedia) -> None:
    """The balance is read, and a character preprocess costs 1 credit."""
    assert client.credits() == Credits(
        balance=DEFAULT_BALANCE, total_purchased=DEFAULT_BALANCE, total_used=0
    )
    client.create_character("hero", media.png)
    assert client.credits() == Credits(
        balance=DEFAULT_BALANCE - 1, total_purchased=DEFAULT_BALANCE, total_used=1
    )


def test_missing_required_field_is_rejected_with_the_list_detail(
    client: ViggleClient, media: ClientMedia
) -> None:
    """A FastAPI-style 422 (``detail`` as a list) becomes RejectedError with its message."""
    with pytest.raises(RejectedError) as caught:
        client.create_character("", media.png)
    assert (caught.value.http_status, caught.value.code, caught.value.message) == (
        422,
        None,
        "field required",
    )


def test_the_key_is_not_in_reprs_or_errors(client: ViggleClient) -> None:
    """Neither the client's repr nor an error message carries the key."""
    with pytest.raises(NotFoundError) as caught:
        client.get_character("missing")
    assert KEY not in repr(client) + str(caught.value) + repr(caught.value)


# legacy dialect ---------------------------------------------------------------------------


def test_legacy_render_lifecycle(
    start: Start, session: CountingSession, clock: FakeClock, media: ClientMedia
) -> None:
    """Legacy envelopes parse; pending/rendering/merging are in progress; the result downloads."""
    emu = start(faults=Faults(legacy=True))
    client = make_client(emu.url, session)
    created = client.render(UploadInput(media.png, media.mp4))
    assert (created.status, created.mode) == ("pending", "full_pipeline")
    raw = requests.get(f"{emu.url}/api/render/{created.job_id}", timeout=10).json()
    assert set(raw) == {"data"}  # the emulator really speaks the legacy dialect
    seen = []
    for step_s in (0.5, 2.5, 6.5):
        clock.advance(step_s)
        now = client.get_render(created.job_id)
        seen.append((now.status, now.terminal))
    assert seen == [("pending", False), ("rendering", False), ("merging", False)]
    done = finished(client, clock, created.job_id)
    assert done.status == "complete" and done.cdn_url is not None
    data, summary = fetch(client, done.cdn_url)
    assert summary.size == len(data) > 0
    assert emu.emulator.stats()["cdn_requests_with_auth"] == 0


def test_legacy_assets_renders_and_credits(
    start: Start, session: CountingSession, clock: FakeClock, media: ClientMedia
) -> None:
    """Every asset, render and account call parses the ``data`` envelope."""
    emu = start(faults=Faults(legacy=True))
    client = make_client(emu.url, session)
    character = client.create_character("hero", media.png)
    scene = client.create_scene("dance", media.mp4)
    duo = client.import_template(DUO_TEMPLATE)
    assert (character.status, scene.status, duo.segments) == ("pending", "pending", DUO_SEGMENTS)
    ready_assets(clock)
    assert client.get_character(character.id).status == "ready"
    assert (client.get_scene(scene.id).status, client.get_scene(duo.id).segments) == (
        "ready",
        DUO_SEGMENTS,
    )
    assert [c.id for c in client.list_characters().characters] == [character.id]
    assert [s.id for s in client.list_scenes().scenes] == [scene.id, duo.id]
    by_ids = client.render(IdsInput(character.id, scene.id))
    multi = client.render(MultiInput(duo.id, {DUO_SEGMENTS[1]: character.id}))
    assert (by_ids.mode, multi.mode) == ("preprocessed", "preprocessed")
    cancelled = client.cancel_render(multi.job_id)
    assert cancelled is not None and cancelled.status == "cancelled"
    assert client.credits().balance == DEFAULT_BALANCE - 1 - 2
    client.delete_scene(scene.id)
    client.delete_character(character.id)
    assert (client.list_characters().total, client.list_scenes().total) == (0, 1)


def _missing_character(client: ViggleClient, media: ClientMedia) -> object:
    return client.get_character("missing")


def _unknown_ids(client: ViggleClient, media: ClientMedia) -> object:
    return client.render(IdsInput("missing", "missing"))


def _paid_character(client: ViggleClient, media: ClientMedia) -> object:
    return client.create_character("hero", media.png)


def _fast_render(client: ViggleClient, media: ClientMedia) -> object:
    return client.render(UploadInput(media.png, media.mp4), RenderOptions(fast=True))


def _balance(client: ViggleClient, media: ClientMedia) -> object:
    return client.credits()


@pytest.mark.parametrize(
    ("config", "call", "expected", "status", "code"),
    [
        ({}, _missing_character, NotFoundError, 404, "CS-UORC01-002"),
        ({}, _unknown_ids, RejectedError, 400, "CS-ORIV-008"),
        ({"balance": 0.0}, _paid_character, CreditsError, 402, "CS-UORC01-008"),
        (
            {"faults": Faults(legacy=True, fast_unavailable=True)},
            _fast_render,
            FastUnavailableError,
            400,
            "CS-UORC01-001",
        ),
        ({"keys": frozenset({"sk-another-key"})}, _balance, AuthError, 401, "CS-UORC01-007"),
    ],
)
def test_legacy_top_level_errors_are_typed(
    start: Start,
    session: CountingSession,
    media: ClientMedia,
    config: dict[str, Any],
    call: Callable[[ViggleClient, ClientMedia], object],
    expected: type[ApiError],
    status: int,
    code: str,
) -> None:
    """Legacy errors (top-level ``error_code`` / ``message``) become the same typed errors."""
    emu = start(**{"faults": Faults(legacy=True), **config})
    client = make_client(emu.url, session)
    with pytest.raises(ApiError) as caught:
        call(client, media)
    assert (type(caught.value), caught.value.http_status, caught.value.code) == (
        expected,
        status,
        code,
    )
    assert caught.value.message and not caught.value.message.startswith("HTTP ")
