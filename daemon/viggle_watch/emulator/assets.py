"""Emulated characters and scenes: their records, their status over time, their JSON documents.

Pure. A character goes ``pending`` → ``processing`` → ``ready`` and a scene ``pending`` →
``ready`` (the scene enum of spec §2.5 has no ``processing``) over ``asset_delay_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from viggle_watch.emulator.jobs import iso_utc

CHARACTER_COST: Final = 1
READY: Final = "ready"
PENDING: Final = "pending"
PROCESSING: Final = "processing"


@dataclass(frozen=True, slots=True)
class Character:
    """A preprocessed character owned by the key with fingerprint ``owner``."""

    character_id: str
    job_id: str
    owner: str
    name: str
    image_sha256: str
    created_s: float
    created_at: datetime


class Footage(Protocol):
    """A scene's video as far as the API tells of it."""

    @property
    def duration_s(self) -> float: ...
    @property
    def fps(self) -> float: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SceneFacts:
    """What a scene is made of: from a probed upload, or from a template."""

    name: str
    model: str
    """The model the scene is bound to for good."""
    background_mode: str
    footage: Footage
    """Its video: the probe of an upload, or the template it was imported from."""
    video_sha256: str | None = None
    template_id: str | None = None
    segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scene:
    """A preprocessed or imported scene owned by the key with fingerprint ``owner``."""

    scene_id: str
    job_id: str
    owner: str
    facts: SceneFacts
    created_s: float
    created_at: datetime


def character_status(elapsed_s: float, delay_s: float) -> str:
    """``pending`` for the first half of the delay, ``processing`` for the second, then ready."""
    if delay_s <= 0 or elapsed_s >= delay_s:
        return READY
    return PENDING if elapsed_s < delay_s / 2 else PROCESSING


def scene_status(elapsed_s: float, delay_s: float) -> str:
    """``pending`` until the delay has passed, then ``ready``."""
    return READY if delay_s <= 0 or elapsed_s >= delay_s else PENDING


def _completed_at(created_at: datetime, delay_s: float, ready: bool) -> str | None:
    return iso_utc(created_at + timedelta(seconds=max(0.0, delay_s))) if ready else None


def character_document(character: Character, status: str, delay_s: float) -> dict[str, object]:
    """The ``GET /api/characters/{id}`` body (spec §2.4, with the [3P] encoding flags)."""
    ready = status == READY
    return {
        "id": character.character_id,
        "name": character.name,
        "status": status,
        "job_id": character.job_id,
        "error": None,
        "error_message": None,
        "thumbnail_url": None,
        "credits_used": CHARACTER_COST,
        "has_v3_encoding": ready,
        "has_v4_encoding": ready,
        "created_at": iso_utc(character.created_at),
        "completed_at": _completed_at(character.created_at, delay_s, ready),
    }


def character_summary(character: Character, status: str, delay_s: float) -> dict[str, object]:
    """One item of ``GET /api/characters``."""
    full = character_document(character, status, delay_s)
    return {name: full[name] for name in ("id", "name", "status", "created_at", "completed_at")}


def segment_documents(scene: Scene) -> list[dict[str, str]]:
    """The ``segments`` array of an imported multi-person scene."""
    return [{"uuid": uuid, "type": "human"} for uuid in scene.facts.segments]


def scene_document(scene: Scene, status: str, delay_s: float) -> dict[str, object]:
    """The ``GET /api/scenes/{id}`` body (spec §2.5); video facts are null until ready."""
    ready = status == READY
    facts = scene.facts
    video = facts.footage
    return {
        "id": scene.scene_id,
        "name": facts.name,
        "status": status,
        "model": facts.model,
        "background_mode": facts.background_mode,
        "duration_seconds": round(video.duration_s, 3) if ready else None,
        "fps": round(video.fps, 3) if ready else None,
        "total_frames": round(video.duration_s * video.fps) if ready else None,
        "width": video.width if ready else None,
        "height": video.height if ready else None,
        "template_id": facts.template_id,
        "segments": segment_documents(scene),
        "job_id": scene.job_id,
        "error_message": None,
        "credits_used": 0,
        "created_at": iso_utc(scene.created_at),
        "completed_at": _completed_at(scene.created_at, delay_s, ready),
    }


def scene_summary(scene: Scene, status: str, delay_s: float) -> dict[str, object]:
    """One item of ``GET /api/scenes``."""
    full = scene_document(scene, status, delay_s)
    names = ("id", "name", "status", "duration_seconds", "created_at", "completed_at")
    return {name: full[name] for name in names}
