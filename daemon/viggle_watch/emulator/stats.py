"""The ``GET /_sim/stats`` document of the emulator (its names are public: scripts read them)."""

from __future__ import annotations

from typing import TypedDict


class RenderSubmission(TypedDict):
    """One accepted ``POST /api/render`` as recorded in the stats (names are public)."""

    job_id: str
    ref_image_sha256: str | None
    driving_video_sha256: str | None
    character_id: str | None
    scene_id: str | None
    model: str
    fast: bool
    background_mode: str
    input: str
    character_mapping: dict[str, str] | None
    credits_reserved: int


class CharacterCreation(TypedDict):
    """One accepted character preprocess."""

    character_id: str
    image_sha256: str


class SceneCreation(TypedDict):
    """One accepted scene preprocess or template import (``video_sha256`` None for imports)."""

    scene_id: str
    video_sha256: str | None
    model: str
    template_id: str | None


class EmulatorStats(TypedDict):
    """The ``GET /_sim/stats`` document (names are public: users' scripts read them)."""

    calls: dict[str, int]
    render_submissions: list[RenderSubmission]
    cdn_requests_with_auth: int
    credits_spent: float
    balance: float | None
    """The balance of the one key used so far (the starting balance before any); null once
    several keys were used: read ``balances``."""
    balances: dict[str, float]
    """Balance per key fingerprint (sha256 of the key, 12 hex digits)."""
    character_creations: list[CharacterCreation]
    scene_creations: list[SceneCreation]
    faults_injected: dict[str, int]
