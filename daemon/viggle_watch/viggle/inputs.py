"""Pure: the three ways to ask for a render, its options, and the client-side checks on them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Literal

MODELS: Final = frozenset({"V4_Preview", "V3_Preview"})
BackgroundMode = Literal["original", "solid", "transparent"]
BACKGROUND_MODES: Final = frozenset({"original", "solid", "transparent"})
_RGB: Final = re.compile(r"^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$")


@dataclass(frozen=True, slots=True)
class Opened:
    """A local file already open — checked by the caller to be the bytes it measured — that
    is uploaded from this very descriptor (never opened again by name). The caller closes it."""

    name: str
    file: IO[bytes]
    size: int


Upload = Path | Opened
"""A file to upload: by name (opened when sent), or already open."""


@dataclass(frozen=True, slots=True)
class UploadInput:
    """On-demand: the character image and the driving video go up in the render request."""

    ref_image: Upload
    driving_video: Upload


@dataclass(frozen=True, slots=True)
class UrlInput:
    """On-demand from URLs the API downloads itself."""

    ref_image_url: str
    driving_video_url: str


@dataclass(frozen=True, slots=True)
class IdsInput:
    """Preprocessed: a ready character and a ready scene (the model comes from the scene)."""

    character_id: str
    scene_id: str


@dataclass(frozen=True, slots=True)
class MultiInput:
    """Multi-person: a scene with segments, and which character replaces which segment."""

    scene_id: str
    character_mapping: Mapping[str, str] = field(default_factory=dict)


RenderInput = UploadInput | UrlInput | IdsInput | MultiInput


class InvalidOptionsError(ValueError):
    """Options the API would refuse; caught before anything is sent."""


@dataclass(frozen=True, slots=True)
class RenderOptions:
    model: str | None = None
    background_mode: str | None = None  # "original" | "solid" | "transparent"
    bg_color: str | None = None  # "R,G,B", only with background_mode="solid"
    fast: bool = False

    def form(self, render_input: RenderInput) -> dict[str, str]:
        """The form fields for these options with this input; raise ``InvalidOptionsError``."""
        fields: dict[str, str] = {}
        if self.model is not None:
            if self.model not in MODELS:
                raise InvalidOptionsError(
                    f"unknown model {self.model!r}; use one of {sorted(MODELS)}"
                )
            # sent with a scene too: a scene made for the other model must be refused (a 400),
            # never rendered silently with the wrong model under this job's dedup key
            fields["model"] = self.model
        if self.background_mode is not None:
            if self.background_mode not in BACKGROUND_MODES:
                raise InvalidOptionsError(f"unknown background_mode {self.background_mode!r}")
            fields["background_mode"] = self.background_mode
        if self.bg_color is not None:
            if self.background_mode != "solid":
                raise InvalidOptionsError("bg_color is only allowed with background_mode 'solid'")
            fields["bg_color"] = check_rgb(self.bg_color)
        if self.fast:
            if isinstance(render_input, UrlInput):
                raise InvalidOptionsError(
                    "fast needs an uploaded driving video or a scene, not URLs"
                )
            fields["fast"] = "true"
        return fields


def check_rgb(value: str) -> str:
    """``"R,G,B"`` with each part 0-255, normalised; raise ``InvalidOptionsError`` otherwise."""
    match = _RGB.match(value)
    if not match or any(int(part) > 255 for part in match.groups()):
        raise InvalidOptionsError(f"bg_color must be 'R,G,B' with values 0-255, not {value!r}")
    return ",".join(match.groups())


def input_form(render_input: RenderInput) -> dict[str, str]:
    """The non-file form fields of an input (ids, URLs, the mapping as a JSON string)."""
    match render_input:
        case UrlInput(ref_image_url=image, driving_video_url=video):
            return {"ref_image_url": image, "driving_video_url": video}
        case IdsInput(character_id=character, scene_id=scene):
            return {"character_id": character, "scene_id": scene}
        case MultiInput(scene_id=scene, character_mapping=mapping):
            return {"scene_id": scene, "character_mapping": json.dumps(dict(mapping))}
        case _:
            return {}
