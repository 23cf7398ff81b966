"""Pure: what a job renders (its inputs, scene, model and options) and its dedup key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class InputRef:
    """One input file of a job as it was when the job was made."""

    role: str  # "character" | "scene" | "cast"
    path: str
    sha256: str
    size: int
    duration_s: float | None = None  # videos only


@dataclass(frozen=True, slots=True)
class CastMember:
    """A fixed character playing one segment of a multi-person scene."""

    segment: str
    character: InputRef


@dataclass(frozen=True, slots=True)
class RenderChoices:
    background_mode: str | None = None
    bg_color: str | None = None
    fast: bool = False


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What to render; stored as JSON with the job and copied into its sidecar.

    Exactly one of ``scene`` (a driving video file), ``template`` (a Viggle template id) and
    ``scene_id`` (an existing Viggle scene) says what the character performs.
    """

    rule: str
    character: InputRef
    scene: InputRef | None
    model: str
    output_name: str  # file stem in the rule's output folder
    mode: str = "on_demand"  # or "preprocessed"
    template: str | None = None
    scene_id: str | None = None
    segment: str | None = None  # multi-person: the segment the dropped character plays
    cast: tuple[CastMember, ...] = ()
    options: RenderChoices = field(default_factory=RenderChoices)

    @property
    def scene_key(self) -> str:
        if self.scene is not None:
            return f"video:{self.scene.sha256}"
        if self.template is not None:
            return f"template:{self.template}"
        return f"scene:{self.scene_id}"

    @property
    def characters(self) -> list[InputRef]:
        """Every character image the render needs: the dropped one first, then the cast."""
        return [self.character, *(m.character for m in self.cast)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        d: dict[str, Any] = json.loads(text)
        scene = d.get("scene")
        return cls(
            rule=d["rule"],
            character=InputRef(**d["character"]),
            scene=InputRef(**scene) if scene else None,
            model=d["model"],
            output_name=d["output_name"],
            mode=d.get("mode", "on_demand"),
            template=d.get("template"),
            scene_id=d.get("scene_id"),
            segment=d.get("segment"),
            cast=tuple(
                CastMember(m["segment"], InputRef(**m["character"])) for m in d.get("cast", [])
            ),
            options=RenderChoices(**d.get("options", {})),
        )


def dedup_key(spec: JobSpec) -> str:
    """Rule + input hashes + scene key + model + mapping + options (docs/reliability.md §1)."""
    canonical = json.dumps(
        {
            "rule": spec.rule,
            "character": spec.character.sha256,
            "scene": spec.scene_key,
            "model": spec.model,
            "segment": spec.segment,
            "cast": {m.segment: m.character.sha256 for m in spec.cast},
            "options": asdict(spec.options),
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def scene_label(spec: JobSpec) -> str:
    """A short name for the scene, for output file names."""
    if spec.scene is not None:
        return Path(spec.scene.path).stem
    return spec.template or spec.scene_id or "scene"
