"""The real ViggleClient against the emulator over 127.0.0.1: characters, scenes and credits,
refusals and the key, and the legacy dialect. Renders, their options, status, cancel and
download: ``test_client_contract.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.support.client import (
    DUO_SEGMENTS,
    DUO_TEMPLATE,
    KEY,
    ClientMedia,
    CountingSession,
    fetch,
    finished,
    make_client,
    ready_assets,
    ready_character,
)
from tests.support.emulator import SOLO_TEMPLATE, FakeClock, Start
from viggle_watch.emulator.config import DEFAULT_BALANCE
from viggle_watch.emulator.server import Faults, RunningEmulator
from viggle_watch.errors import (
    ApiError,
    AuthError,
    CreditsError,
    FastUnavailableError,
    NotFoundError,
    RejectedError,
)
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.inputs import IdsInput, MultiInput, RenderOptions, UploadInput
from viggle_watch.viggle.schemas import Credits

# characters, scenes, credits --------------------------------------------------------------


def test_characters_list_get_delete(
    client: ViggleClient, emu: RunningEmulator, client_media: ClientMedia
) -> None:
    """Characters are listed (paged), fetched, deleted; a deleted one is NotFoundError."""
    alice = client.create_character("alice", client_media.png).id
    bob = client.create_character("bob", client_media.png).id
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


def test_scenes_list_get_delete(
    client: ViggleClient, clock: FakeClock, client_media: ClientMedia
) -> None:
    """Scenes (preprocessed and imported) are listed, fetched and deleted; free of charge."""
    dance = client.create_scene("dance", client_media.mp4).id
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
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """A scene bound to V3 renders with V3 when no model is asked for."""
    scene = client.create_scene("dance", client_media.mp4, model="V3_Preview").id
    character = ready_character(client, clock, client_media)
    client.render(IdsInput(character, scene))
    [recorded] = emu.emulator.stats()["render_submissions"]
    assert recorded["model"] == "V3_Preview"


def test_scene_bound_to_v3_rendered_with_v4_is_rejected(
    client: ViggleClient, emu: RunningEmulator, clock: FakeClock, client_media: ClientMedia
) -> None:
    """Asking a V3 scene for a V4 render is a typed RejectedError, and nothing is charged."""
    scene = client.create_scene("dance", client_media.mp4, model="V3_Preview").id
    character = ready_character(client, clock, client_media)
    with pytest.raises(RejectedError) as caught:
        client.render(IdsInput(character, scene), RenderOptions(model="V4_Preview"))
    assert (caught.value.http_status, caught.value.code) == (400, "CS-UORC01-002")
    assert emu.emulator.stats()["render_submissions"] == []


def test_credits(client: ViggleClient, client_media: ClientMedia) -> None:
    """The balance is read, and a character preprocess costs 1 credit."""
    assert client.credits() == Credits(
        balance=DEFAULT_BALANCE, total_purchased=DEFAULT_BALANCE, total_used=0
    )
    client.create_character("hero", client_media.png)
    assert client.credits() == Credits(
        balance=DEFAULT_BALANCE - 1, total_purchased=DEFAULT_BALANCE, total_used=1
    )


def test_missing_required_field_is_rejected_with_the_list_detail(
    client: ViggleClient, client_media: ClientMedia
) -> None:
    """A FastAPI-style 422 (``detail`` as a list) becomes RejectedError with its message."""
    with pytest.raises(RejectedError) as caught:
        client.create_character("", client_media.png)
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
    start: Start, session: CountingSession, clock: FakeClock, client_media: ClientMedia
) -> None:
    """Legacy envelopes parse; pending/rendering/merging are in progress; the result downloads."""
    emu = start(faults=Faults(legacy=True))
    client = make_client(emu.url, session)
    created = client.render(UploadInput(client_media.png, client_media.mp4))
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
    start: Start, session: CountingSession, clock: FakeClock, client_media: ClientMedia
) -> None:
    """Every asset, render and account call parses the ``data`` envelope."""
    emu = start(faults=Faults(legacy=True))
    client = make_client(emu.url, session)
    character = client.create_character("hero", client_media.png)
    scene = client.create_scene("dance", client_media.mp4)
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


def _missing_character(client: ViggleClient, client_media: ClientMedia) -> object:
    return client.get_character("missing")


def _unknown_ids(client: ViggleClient, client_media: ClientMedia) -> object:
    return client.render(IdsInput("missing", "missing"))


def _paid_character(client: ViggleClient, client_media: ClientMedia) -> object:
    return client.create_character("hero", client_media.png)


def _fast_render(client: ViggleClient, client_media: ClientMedia) -> object:
    return client.render(UploadInput(client_media.png, client_media.mp4), RenderOptions(fast=True))


def _balance(client: ViggleClient, client_media: ClientMedia) -> object:
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
    client_media: ClientMedia,
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
        call(client, client_media)
    assert (type(caught.value), caught.value.http_status, caught.value.code) == (
        expected,
        status,
        code,
    )
    assert caught.value.message and not caught.value.message.startswith("HTTP ")
