"""The emulator's asset and account routes: characters, scenes, template import, credits.

Spec §2.4, §2.5 and §2.7. Assets belong to the API key that created them: another key sees
404 (and CS-ORIV-008/009 when rendering). Deletes are soft: the asset disappears from GET,
lists and renders, and its credit is not refunded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from viggle_watch.emulator.assets import (
    Character,
    Scene,
    SceneFacts,
    character_document,
    character_summary,
    scene_document,
    scene_summary,
    segment_documents,
)
from viggle_watch.emulator.context import Backend, Call
from viggle_watch.emulator.inputs import (
    CHARACTER_IMAGE_FORMATS,
    SCENE_CONTAINERS,
    check_image,
    check_video,
    is_present,
    read_input,
)
from viggle_watch.emulator.jobs import iso_utc
from viggle_watch.emulator.render import BACKGROUND_MODES, DEFAULT_MODEL
from viggle_watch.emulator.replies import (
    CODE_BACKGROUND,
    CODE_NO_IMAGE,
    CODE_NO_VIDEO,
    Rejection,
    Reply,
    insufficient_credits,
    invalid,
    missing_field,
    not_found,
    rejected,
)
from viggle_watch.emulator.templates import MODELS

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
PENDING: Final = "pending"
T = TypeVar("T")
Document = dict[str, object]


def _upload(backend: Backend, call: Call, field: str, missing: Rejection) -> bytes | Rejection:
    """The asset's file: uploaded as ``field`` or fetched from ``{field}_url``, one of them;
    ``missing`` when neither was sent."""
    url_field = f"{field}_url"
    if is_present(call.request, field) and is_present(call.request, url_field):
        return invalid(f"Send either {field} or {url_field}, not both")
    data = read_input(call.request, field, backend.resolve)
    return missing if data is None else data


def character_create(backend: Backend, call: Call) -> Reply | Rejection:
    """``POST /api/characters/preprocess``: 1 credit, a pending character."""
    form = call.request.form
    name = form.get("name", "").strip()
    if not name:
        return missing_field("name")
    model = form.get("model", "").strip()
    if model and model not in MODELS:
        return invalid(f"Unknown model {model!r}; use V4_Preview or V3_Preview")
    missing = rejected(CODE_NO_IMAGE, "Character image required", "Upload image or image_url")
    data = _upload(backend, call, "image", missing)
    if isinstance(data, Rejection):
        return data
    image_sha = check_image(data, CHARACTER_IMAGE_FORMATS, "image")
    if isinstance(image_sha, Rejection):
        return image_sha
    character = backend.state.add_character(call.owner, name, image_sha)
    if character is None:
        return insufficient_credits(1, backend.state.credits(call.owner).balance)
    return Reply(
        {
            "character_id": character.character_id,
            "job_id": character.job_id,
            "status": PENDING,
            "enqueued_at": iso_utc(character.created_at),
        }
    )


def _scene_options(call: Call) -> tuple[str, str] | Rejection:
    """``(background_mode, model)`` of a scene preprocess, with their defaults."""
    form = call.request.form
    mode_text = form.get("background_mode", "").strip() or "original"
    mode = BACKGROUND_MODES.get(mode_text)
    if mode is None:
        message = f"Invalid background_mode {mode_text!r}"
        return rejected(CODE_BACKGROUND, message, "Use original, solid or transparent")
    model = form.get("model", "").strip() or DEFAULT_MODEL
    if model not in MODELS:
        return invalid(f"Unknown model {model!r}; use V4_Preview or V3_Preview")
    return mode, model


def scene_create(backend: Backend, call: Call) -> Reply | Rejection:
    """``POST /api/scenes/preprocess``: free, a pending scene bound to its model."""
    name = call.request.form.get("name", "").strip()
    if not name:
        return missing_field("name")
    options = _scene_options(call)
    if isinstance(options, Rejection):
        return options
    missing = rejected(CODE_NO_VIDEO, "Scene video required", "Upload video or video_url")
    data = _upload(backend, call, "video", missing)
    if isinstance(data, Rejection):
        return data
    video = check_video(data, SCENE_CONTAINERS)
    if isinstance(video, Rejection):
        return video
    mode, model = options
    facts = SceneFacts(name, model, mode, video.probe, video_sha256=video.sha256)
    scene = backend.state.add_scene(call.owner, facts)
    return Reply(
        {
            "scene_id": scene.scene_id,
            "job_id": scene.job_id,
            "status": PENDING,
            "enqueued_at": iso_utc(scene.created_at),
        }
    )


def _template_id(body: object) -> str | Rejection:
    if not isinstance(body, dict):
        return invalid("The body must be a JSON object", 'Send {"template_id": "..."}')
    given = {body.get("template_id"), body.get("template_uuid")} - {None}
    if len(given) != 1 or not isinstance(next(iter(given)), str):
        return invalid("Send one template_id (or template_uuid) string")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        return invalid("name must be a string")
    return str(next(iter(given)))


def scene_import(backend: Backend, call: Call) -> Reply | Rejection:
    """``POST /api/scenes/import``: a pending scene from a template; unknown template is 404."""
    body = call.request.json()
    template_id = _template_id(body)
    if isinstance(template_id, Rejection):
        return template_id
    template = backend.templates.get(template_id)
    if template is None:
        return not_found("Template")
    assert isinstance(body, dict)
    facts = SceneFacts(
        name=body.get("name") or template.name,
        model=template.model,
        background_mode="original",
        footage=template,
        template_id=template.template_id,
        segments=template.segments,
    )
    scene = backend.state.add_scene(call.owner, facts)
    return Reply(
        {
            "id": scene.scene_id,
            "status": PENDING,
            "credits_reserved": 0,
            "segments": segment_documents(scene),
        }
    )


def _page(call: Call) -> tuple[int, int] | Rejection:
    """``(limit, offset)`` from the query: limit 1-100 (default 20), offset >= 0."""
    try:
        limit = int(call.request.query.get("limit", DEFAULT_LIMIT))
        offset = int(call.request.query.get("offset", 0))
    except ValueError:
        return invalid("limit and offset must be integers")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return invalid(f"limit must be 1-{MAX_LIMIT} and offset >= 0")
    return limit, offset


def character_get(backend: Backend, call: Call) -> Reply | Rejection:
    """``GET /api/characters/{id}``."""
    character = backend.state.character(call.owner, call.args["asset_id"])
    if character is None:
        return not_found("Character")
    status = backend.state.character_status(character)
    return Reply(character_document(character, status, backend.state.asset_delay_s))


def _listing(
    call: Call, key: str, everything: Callable[[], Sequence[T]], summary: Callable[[T], Document]
) -> Reply | Rejection:
    """A page of the caller's assets (``everything``) as ``{key: [summaries], total}``."""
    page = _page(call)
    if isinstance(page, Rejection):
        return page
    limit, offset = page
    assets = everything()
    items = [summary(a) for a in assets[offset : offset + limit]]
    return Reply({key: items, "total": len(assets)})


def character_list(backend: Backend, call: Call) -> Reply | Rejection:
    """``GET /api/characters?limit=&offset=`` -> ``{characters, total}``."""
    state = backend.state

    def summary(c: Character) -> Document:
        return character_summary(c, state.character_status(c), state.asset_delay_s)

    return _listing(call, "characters", lambda: state.characters(call.owner), summary)


def scene_get(backend: Backend, call: Call) -> Reply | Rejection:
    """``GET /api/scenes/{id}``."""
    scene = backend.state.scene(call.owner, call.args["asset_id"])
    if scene is None:
        return not_found("Scene")
    state = backend.state
    return Reply(scene_document(scene, state.scene_status(scene), state.asset_delay_s))


def scene_list(backend: Backend, call: Call) -> Reply | Rejection:
    """``GET /api/scenes?limit=&offset=`` -> ``{scenes, total}``."""
    state = backend.state

    def summary(s: Scene) -> Document:
        return scene_summary(s, state.scene_status(s), state.asset_delay_s)

    return _listing(call, "scenes", lambda: state.scenes(call.owner), summary)


def _delete(backend: Backend, call: Call, found: object, what: str) -> Reply | Rejection:
    """Soft-delete the caller's asset ``found`` (None when it is not theirs or gone)."""
    if found is None or not backend.state.delete_asset(call.owner, call.args["asset_id"]):
        return not_found(what)
    return Reply({"success": True})


def character_delete(backend: Backend, call: Call) -> Reply | Rejection:
    """``DELETE /api/characters/{id}``: soft delete (no refund)."""
    found = backend.state.character(call.owner, call.args["asset_id"])
    return _delete(backend, call, found, "Character")


def scene_delete(backend: Backend, call: Call) -> Reply | Rejection:
    """``DELETE /api/scenes/{id}``: soft delete."""
    found = backend.state.scene(call.owner, call.args["asset_id"])
    return _delete(backend, call, found, "Scene")


def credits(backend: Backend, call: Call) -> Reply | Rejection:
    """``GET /api/credits``: the caller's balance (spec §2.7)."""
    account = backend.state.credits(call.owner)
    return Reply(
        {
            "balance": account.balance,
            "credits": account.balance,
            "total_purchased": account.total_purchased,
            "total_used": account.total_used,
            "updated_at": iso_utc(account.updated_at),
        }
    )
