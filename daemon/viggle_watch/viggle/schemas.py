"""The API's JSON, tolerant of every variant in docs/viggle-api.md: envelopes, aliases, extras."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

RENDER_TERMINAL: Final = frozenset({"complete", "failed", "cancelled"})
# the words the docs (new pages and old) use while a render goes or when it ends (§3)
KNOWN_STATUSES: Final = RENDER_TERMINAL | {
    "queued",
    "processing",
    "pending",
    "rendering",
    "merging",
}
UNKNOWN_STATUS_NOTE: Final = "Viggle says"  # a job's history: a status word not known here
ASSET_TERMINAL: Final = frozenset({"ready", "failed"})
# kept for callers of the skeleton's name
TERMINAL_STATUSES: Final = RENDER_TERMINAL


class _Lenient(BaseModel):
    # unknown fields ignored; an id sent as a number read as its text (coerce_numbers_to_str)
    model_config = ConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, coerce_numbers_to_str=True
    )


def _percent(value: Any) -> Any:
    """``45``, ``"45"``, ``"45%"``, ``0.45``… as a number; anything else as no progress: a
    progress figure is shown, never needed, and must not make a poll unreadable."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> Any:
    """A field shown as words that came as an object or a list: kept as its JSON."""
    return json.dumps(value, default=str) if isinstance(value, dict | list) else value


def _items(value: Any) -> Any:
    """A list that came as ``null``: an empty list."""
    return [] if value is None else value


Percent = Annotated[float | None, BeforeValidator(_percent)]
Text = Annotated[str | None, BeforeValidator(_text)]


class RenderCreated(_Lenient):
    job_id: str
    status: str | None = None
    mode: str | None = None


def _word(value: Any) -> Any:
    """A status word as the docs write it: ``COMPLETE`` or `` complete `` is ``complete``."""
    return value.strip().lower() if isinstance(value, str) else value


class RenderStatus(_Lenient):
    job_id: str | None = None
    status: Annotated[str, BeforeValidator(_word)]
    mode: str | None = None
    checkpoint: Text = None
    progress_pct: Percent = None
    cdn_url: str | None = None
    mask_cdn_url: str | None = None
    download_url: str | None = None
    error: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    # undocumented for renders: taken as the charge when an answer carries it (render.charged)
    credits_used: float | None = Field(
        default=None, validation_alias=AliasChoices("credits_used", "credits_charged", "cost")
    )

    @property
    def terminal(self) -> bool:
        """Complete, failed or cancelled; anything else (legacy names too) is in progress."""
        return self.status in RENDER_TERMINAL

    @property
    def result_url(self) -> str | None:
        return self.cdn_url or self.download_url


def _segment_ids(data: Any) -> Any:
    """``segments: [{uuid}]`` (docs) or ``character_uuids: [...]`` (3P) → ``segments: [ids]``."""
    if not isinstance(data, dict):
        return data
    raw = data.get("segments")
    if raw is None:
        raw = data.get("character_uuids")
    ids = [s.get("uuid") or s.get("id") if isinstance(s, dict) else s for s in raw or []]
    return {**data, "segments": [str(i) for i in ids if i]}


class AssetCreated(_Lenient):
    """The answer to a character or scene preprocess, or a template import."""

    id: str = Field(validation_alias=AliasChoices("character_id", "scene_id", "id"))
    job_id: str | None = None
    status: str | None = None
    credits_reserved: float | None = None
    segments: list[str] = []

    _norm = model_validator(mode="before")(staticmethod(_segment_ids))


class Character(_Lenient):
    id: str = Field(validation_alias=AliasChoices("id", "character_id"))
    name: str | None = None
    status: str
    error: str | None = None
    error_message: str | None = None
    credits_used: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in ASSET_TERMINAL


class Scene(_Lenient):
    id: str = Field(validation_alias=AliasChoices("id", "scene_id"))
    name: str | None = None
    status: str
    duration_seconds: float | None = None
    fps: float | None = None
    total_frames: int | None = None
    width: int | None = None
    height: int | None = None
    error_message: str | None = None
    segments: list[str] = []

    _norm = model_validator(mode="before")(staticmethod(_segment_ids))

    @property
    def terminal(self) -> bool:
        return self.status in ASSET_TERMINAL


class CharacterPage(_Lenient):
    characters: Annotated[list[Character], BeforeValidator(_items)] = []
    total: int = 0


class ScenePage(_Lenient):
    scenes: Annotated[list[Scene], BeforeValidator(_items)] = []
    total: int = 0


class Credits(_Lenient):
    balance: float = Field(validation_alias=AliasChoices("balance", "credits"))
    total_purchased: float | None = None
    total_used: float | None = None


def unwrap(body: Any) -> Any:
    """Strip the legacy ``{"data": {...}}`` envelope when present."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return body


def error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(code, message, action) from any documented error shape; Nones where absent."""
    if not isinstance(body, dict):
        return None, None, None
    detail = body.get("detail")
    if isinstance(detail, dict):
        return _s(detail.get("error_code")), _s(detail.get("message")), _s(detail.get("action"))
    if isinstance(detail, str):
        return None, detail, None
    if isinstance(detail, list) and detail:
        msgs = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail[:5]]
        return None, "; ".join(msgs), None
    return (
        _s(body.get("error_code")),
        _s(body.get("message")) or _s(body.get("error")),
        _s(body.get("action")),
    )


def _s(value: object) -> str | None:
    return None if value is None else str(value)
