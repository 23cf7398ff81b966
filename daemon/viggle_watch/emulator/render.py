"""The emulator's render routes: create (four input sets), status, and cancel (spec §2.1-2.3, 2.6).

``POST /api/render`` accepts exactly the documented field pairs: ``ref_image`` +
``driving_video`` (upload), ``ref_image_url`` + ``driving_video_url`` (URL), ``character_id``
+ ``scene_id`` (ids), ``scene_id`` + ``character_mapping`` (multi-character). One side alone
is CS-ORIV-001 / CS-ORIV-002; any other mix is 400 CS-UORC01-002.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from viggle_watch.emulator.assets import READY, Scene
from viggle_watch.emulator.context import Backend, Call
from viggle_watch.emulator.inputs import (
    RENDER_CONTAINERS,
    RENDER_IMAGE_FORMATS,
    Video,
    check_image,
    check_video,
    is_present,
    read_input,
)
from viggle_watch.emulator.jobs import JobStatus, RenderSpec, iso_utc, status_document
from viggle_watch.emulator.replies import (
    CODE_BACKGROUND,
    CODE_FAST_UNAVAILABLE,
    CODE_INVALID,
    CODE_MAPPING,
    CODE_NO_CHARACTER,
    CODE_NO_IMAGE,
    CODE_NO_SCENE,
    CODE_NO_VIDEO,
    CODE_NOT_READY,
    Rejection,
    Reply,
    insufficient_credits,
    invalid,
    not_found,
    rejected,
)
from viggle_watch.emulator.state import CancelRefusal
from viggle_watch.emulator.templates import MODELS

DEFAULT_MODEL: Final = "V4_Preview"
BACKGROUND_MODES: Final = {
    "original": "original",
    "inpaint": "original",
    "solid": "solid",
    "transparent": "transparent",
}
_INPUT_SETS: Final = {
    frozenset({"ref_image", "driving_video"}): "upload",
    frozenset({"ref_image_url", "driving_video_url"}): "url",
    frozenset({"character_id", "scene_id"}): "ids",
    frozenset({"scene_id", "character_mapping"}): "multi",
}
_SOURCE_FIELDS: Final = frozenset().union(*_INPUT_SETS)
_VIDEO_SIDE: Final = frozenset({"driving_video", "driving_video_url", "scene_id"})
_IMAGE_SIDE: Final = frozenset({"ref_image", "ref_image_url", "character_id", "character_mapping"})
_BG_COLOR: Final = re.compile(r"^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$")


@dataclass(frozen=True, slots=True)
class Options:
    """The render options as sent (``model`` / ``background_mode`` None when absent)."""

    model: str | None
    background_mode: str | None
    bg_color: str | None
    fast: bool


def input_set(present: frozenset[str]) -> str | Rejection:
    """Name the input set formed by the source fields ``present``, or reject the mix."""
    if present in _INPUT_SETS:
        return _INPUT_SETS[present]
    if present <= _VIDEO_SIDE:
        return rejected(CODE_NO_IMAGE, "Reference image required", "Upload ref_image")
    if present <= _IMAGE_SIDE:
        message = "Driving video required"
        return rejected(CODE_NO_VIDEO, message, "Upload driving_video or provide scene_id")
    names = ", ".join(sorted(present))
    return invalid(
        f"Unsupported combination of inputs: {names}",
        "Send ref_image+driving_video, their _url forms, character_id+scene_id, "
        "or scene_id+character_mapping",
    )


def parse_options(form: Mapping[str, str]) -> Options | Rejection:
    """Read ``model``, ``background_mode``, ``bg_color`` and ``fast`` (not yet cross-checked)."""
    model = form.get("model", "").strip() or None
    if model is not None and model not in MODELS:
        return invalid(f"Unknown model {model!r}; use V4_Preview or V3_Preview")
    mode_text = form.get("background_mode", "").strip()
    mode = BACKGROUND_MODES.get(mode_text) if mode_text else None
    if mode_text and mode is None:
        message = f"Invalid background_mode {mode_text!r}"
        return rejected(CODE_BACKGROUND, message, "Use original, solid or transparent")
    fast_text = form.get("fast", "").strip().lower() or "false"
    if fast_text not in ("true", "false"):
        return invalid(f"fast must be 'true' or 'false', got {fast_text!r}")
    bg_color = form.get("bg_color", "").strip() or None
    return Options(model=model, background_mode=mode, bg_color=bg_color, fast=fast_text == "true")


def check_bg_color(bg_color: str | None, background_mode: str) -> Rejection | None:
    """``bg_color`` is an ``R,G,B`` of 0-255 decimals, and only allowed with ``solid``."""
    if bg_color is None:
        return None
    if background_mode != "solid":
        return invalid("bg_color is only allowed with background_mode=solid")
    match = _BG_COLOR.match(bg_color)
    if match is None or any(int(part) > 255 for part in match.groups()):
        return invalid(f"bg_color must be 'R,G,B' with values 0-255, got {bg_color!r}")
    return None


def _media_spec(
    backend: Backend, call: Call, kind: str, options: Options
) -> RenderSpec | Rejection:
    """Resolve and validate the image and video of an upload or URL render."""
    image = read_input(call.request, "ref_image", backend.resolve)
    video = read_input(call.request, "driving_video", backend.resolve)
    if isinstance(image, Rejection) or image is None:
        return image or rejected(CODE_NO_IMAGE, "Reference image required", "Upload ref_image")
    if isinstance(video, Rejection) or video is None:
        return video or rejected(CODE_NO_VIDEO, "Driving video required", "Upload driving_video")
    image_sha = check_image(image, RENDER_IMAGE_FORMATS, "ref_image")
    if isinstance(image_sha, Rejection):
        return image_sha
    checked = check_video(video, RENDER_CONTAINERS)
    if isinstance(checked, Rejection):
        return checked
    return _spec(kind, options, checked, image_sha)


def _spec(kind: str, options: Options, video: Video, image_sha: str) -> RenderSpec:
    return RenderSpec(
        input=kind,
        model=options.model or DEFAULT_MODEL,
        background_mode=options.background_mode or "original",
        fast=options.fast,
        output_s=video.probe.duration_s,
        ref_image_sha256=image_sha,
        driving_video_sha256=video.sha256,
    )


def _ready_scene(backend: Backend, call: Call, options: Options) -> Scene | Rejection:
    scene_id = call.request.form.get("scene_id", "").strip()
    scene = backend.state.scene(call.owner, scene_id)
    if scene is None:
        return rejected(CODE_NO_SCENE, f"Scene {scene_id} not found", "Check the scene_id")
    if backend.state.scene_status(scene) != READY:
        return rejected(CODE_NOT_READY, "Scene is not ready yet", "Poll the scene until ready")
    if options.model is not None and options.model != scene.facts.model:
        message = f"Model mismatch: the scene is bound to {scene.facts.model}, not {options.model}"
        return invalid(message, "Omit model, or preprocess the scene with that model")
    return scene


def _ready_character(backend: Backend, call: Call, character_id: str) -> str | Rejection:
    """The character's image sha256 if the caller's character is ready."""
    character = backend.state.character(call.owner, character_id)
    if character is None:
        message = f"Character {character_id} not found"
        return rejected(CODE_NO_CHARACTER, message, "Check the character_id")
    if backend.state.character_status(character) != READY:
        return rejected(CODE_NOT_READY, "Character is not ready yet", "Poll until ready")
    return character.image_sha256


def _scene_spec(scene: Scene, kind: str, options: Options) -> RenderSpec:
    return RenderSpec(
        input=kind,
        model=scene.facts.model,
        background_mode=options.background_mode or scene.facts.background_mode,
        fast=options.fast,
        output_s=scene.facts.footage.duration_s,
        driving_video_sha256=scene.facts.video_sha256,
        scene_id=scene.scene_id,
    )


def _ids_spec(backend: Backend, call: Call, options: Options) -> RenderSpec | Rejection:
    character_id = call.request.form.get("character_id", "").strip()
    image_sha = _ready_character(backend, call, character_id)
    if isinstance(image_sha, Rejection):
        return image_sha
    scene = _ready_scene(backend, call, options)
    if isinstance(scene, Rejection):
        return scene
    if scene.facts.segments:
        return invalid("This is a multi-person scene", "Send character_mapping instead")
    spec = _scene_spec(scene, "ids", options)
    return replace(spec, character_id=character_id, ref_image_sha256=image_sha)


def parse_mapping(text: str) -> dict[str, str] | Rejection:
    """``character_mapping``: a JSON object of segment uuid -> character id."""
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    ok = isinstance(mapping, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    )
    if not ok:
        message = "character_mapping must be a JSON object of segment uuid to character_id"
        return rejected(CODE_MAPPING, message, 'Send e.g. {"person_a1b2c3d4": "<character_id>"}')
    assert isinstance(mapping, dict)
    if not mapping:
        return invalid("character_mapping maps no segment")
    return mapping


def _multi_spec(backend: Backend, call: Call, options: Options) -> RenderSpec | Rejection:
    mapping = parse_mapping(call.request.form.get("character_mapping", ""))
    if isinstance(mapping, Rejection):
        return mapping
    scene = _ready_scene(backend, call, options)
    if isinstance(scene, Rejection):
        return scene
    unknown = sorted(set(mapping) - set(scene.facts.segments))
    if unknown:
        return invalid(f"Unknown segment(s) {', '.join(unknown)}", "Use the scene's segments")
    for character_id in mapping.values():
        found = _ready_character(backend, call, character_id)
        if isinstance(found, Rejection):
            return found
    return replace(_scene_spec(scene, "multi", options), character_mapping=mapping)


def parse_render(backend: Backend, call: Call) -> RenderSpec | Rejection:
    """Validate a ``POST /api/render`` completely (inputs, options, assets, media)."""
    present = frozenset(f for f in _SOURCE_FIELDS if is_present(call.request, f))
    kind = input_set(present)
    if isinstance(kind, Rejection):
        return kind
    options = parse_options(call.request.form)
    if isinstance(options, Rejection):
        return options
    if options.fast and kind == "url":
        return invalid("fast requires an uploaded driving_video or a scene_id")
    if options.fast and backend.injector.faults.fast_unavailable:
        backend.state.count_fault("fast_unavailable")
        message = "Fast mode is temporarily unavailable"
        return rejected(CODE_FAST_UNAVAILABLE, message, "Retry with fast=false")
    if kind in ("upload", "url"):
        spec = _media_spec(backend, call, kind, options)
    elif kind == "ids":
        spec = _ids_spec(backend, call, options)
    else:
        spec = _multi_spec(backend, call, options)
    if isinstance(spec, Rejection):
        return spec
    return check_bg_color(options.bg_color, spec.background_mode) or spec


def render_create(backend: Backend, call: Call) -> Reply | Rejection:
    """``POST /api/render``: validate, reserve the credits, create a queued job."""
    spec = parse_render(backend, call)
    if isinstance(spec, Rejection):
        return spec
    injector = backend.injector
    latency_s = injector.render_latency_s(backend.latency_s) / (2 if spec.fast else 1)
    failure = injector.faults.render_failure_code if injector.render_fails() else None
    job = backend.state.submit(call.owner, spec, latency_s=latency_s, failure_code=failure)
    if job is None:
        return insufficient_credits(spec.cost, backend.state.credits(call.owner).balance)
    if failure is not None:
        backend.state.count_fault("render_failure")
    return Reply(
        {
            "job_id": job.job_id,
            "status": "pending" if backend.legacy else JobStatus.QUEUED.value,
            "mode": spec.mode,
            "enqueued_at": iso_utc(job.created_at),
        }
    )


def _document(backend: Backend, call: Call, job_id: str) -> Reply | Rejection:
    job = backend.state.job(job_id)
    if job is None:
        return not_found("Job")
    progress = job.progress(backend.state.now_s())
    complete = progress.status is JobStatus.COMPLETE
    urls = backend.cdn.urls(job, call.url_root) if complete else None
    document = status_document(job, progress, urls, legacy=backend.legacy)
    if complete and backend.injector.faults.report_cost:
        document["credits_used"] = job.spec.cost
    return Reply(document)


def render_status(backend: Backend, call: Call) -> Reply | Rejection:
    """``GET /api/render/{job_id}`` (no key needed): the full status, URLs freshly signed."""
    return _document(backend, call, call.args["job_id"])


def render_cancel(backend: Backend, call: Call) -> Reply | Rejection:
    """``DELETE /api/render/{job_id}``: cancel a queued/processing job and refund it."""
    job_id = call.args["job_id"]
    outcome = backend.state.cancel(call.owner, job_id)
    if outcome is CancelRefusal.NOT_FOUND:
        return not_found("Job")
    if outcome is CancelRefusal.TERMINAL:
        job = backend.state.job(job_id)
        status = job.progress(backend.state.now_s()).status.value if job else "finished"
        return Rejection(409, CODE_INVALID, f"Job is already {status}", "Nothing to cancel")
    return _document(backend, call, job_id)
