"""The rule kinds and job manifests, as pydantic models (unknown keys are errors)."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    model_validator,
)

from viggle_watch.ids import check_id

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$", re.IGNORECASE)
_UNIT_BYTES: Final = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNIT_BYTES.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})
NAME_FIELDS: Final = frozenset(
    {"character", "scene", "template", "model", "rule", "date", "job", "stem"}
)
DEFAULT_NAMING: Final = "{character}__{scene}"
RULE_KINDS: Final = ("characters", "scenes", "pairs", "jobs")


def parse_duration(value: object) -> float:
    """``500ms``, ``5s``, ``2m``, ``1h`` or a bare number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration such as 500ms, 5s or 2m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 500ms, 5s or 2m")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_size(value: object) -> int:
    """``2GiB``, ``500 MiB``, ``1.5GB`` (powers of 1000) or a bare number of bytes → bytes."""
    if isinstance(value, bool):
        raise ValueError("a size such as 2GiB, 500MiB or a number of bytes")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a size such as 2GiB, 500MiB or 1000000")
        size = int(float(match.group(1)) * _UNIT_BYTES[(match.group(2) or "b").lower()])
    if size < 1:
        raise ValueError("a size must be at least 1 byte")
    return size


def size_words(size: int) -> str:
    """Bytes as a person reads them: ``2 GiB``, ``3 KiB``, ``1.5 MiB``, ``900 bytes``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{round(size / factor, 1):g} {unit}"
    return f"{size} bytes"


def _file_mode(value: object) -> int:
    """``"0640"`` / ``"640"`` / 0o640 → 0o640; only permission bits."""
    try:
        mode = value if isinstance(value, int) else int(str(value), 8)
    except ValueError:
        raise ValueError(f'{value!r} is not a file mode such as "0644"') from None
    if not 0 <= mode <= 0o777:
        raise ValueError(f'{value!r} is not a file mode such as "0644"')
    return mode


# in the published schema (docs/schemas): "5s", "2m" or a number of seconds; "0644" or a number
Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=str | float)]
FileMode = Annotated[int, BeforeValidator(_file_mode, json_schema_input_type=str | int)]
ByteCount = Annotated[int, BeforeValidator(parse_size, json_schema_input_type=str | int)]
Model = Literal["V4_Preview", "V3_Preview"]
RGB = Annotated[str, Field(pattern=r"^\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*$")]


def _from_config_folder(value: Path, info: ValidationInfo) -> Path:
    """A relative path starts at the config file's folder (``base`` in the validation
    context), never at the working directory (``/`` under systemd); ``~`` is expanded."""
    value = value.expanduser()
    base = (info.context or {}).get("base")
    return value if base is None or value.is_absolute() else (Path(base) / value).resolve()


ViggleId = Annotated[str, AfterValidator(check_id)]
"""A template, scene or segment id: it may end up in an API URL (``ids``)."""

ConfigPath = Annotated[Path, AfterValidator(_from_config_folder)]
"""Every path a config or rule file names: resolved the one way, wherever it appears."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SceneSpec(Strict):
    """One scene: a driving video file, a Viggle template, or an existing scene id.

    For a multi-person template, ``segment`` names the person the dropped character plays and
    ``cast`` gives fixed character images for other segments (unmapped people stay as they are).
    """

    video: ConfigPath | None = None
    template: ViggleId | None = None
    scene_id: ViggleId | None = None
    segment: ViggleId | None = None
    cast: dict[ViggleId, ConfigPath] = {}

    @model_validator(mode="after")
    def _one_source(self) -> SceneSpec:
        given = [k for k in ("video", "template", "scene_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a scene needs exactly one of video, template or scene_id")
        if (self.segment or self.cast) and self.video is not None:
            raise ValueError("segment and cast need a multi-person template or scene_id")
        return self


class Webhook(Strict):
    """POST the sidecar JSON to ``url``; with a secret, sign the body (HMAC-SHA256)."""

    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    secret_file: ConfigPath | None = None  # the HMAC key; sent as X-Viggle-Watch-Signature
    timeout: Duration = 10.0
    attempts: Annotated[int, Field(ge=1, le=20)] = 5


class Hook(Strict):
    """What to do when a job ends: a webhook, a command (argv, never a shell), or both."""

    webhook: Webhook | None = None
    command: Annotated[list[str], Field(min_length=1)] | None = None


class RuleBase(Strict):
    """What every rule has: where to watch and write, how to render, what to do with inputs."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    watch: ConfigPath
    output: ConfigPath
    model: Model = "V4_Preview"
    mode: Literal["on_demand", "preprocessed"] = "on_demand"
    background_mode: Literal["original", "solid", "transparent"] | None = None
    bg_color: RGB | None = None
    fast: bool = False
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    naming: str = DEFAULT_NAMING
    collision: Literal["suffix", "overwrite", "skip"] = "suffix"
    inputs: Literal["processed", "source", "leave"] = "processed"
    observer: Literal["auto", "native", "polling"] = "auto"
    recursive: bool = False
    output_mode: FileMode = 0o644
    output_group: str | None = None
    # what is delivered beside the render (NAME.mp4 is always kept): docs/rule-kinds.md
    deliver: list[Literal["mp4", "poster", "prores4444", "webm_alpha", "png_sequence"]] = ["mp4"]
    on_done: Hook | None = None
    on_failed: Hook | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuleBase:
        if self.bg_color is not None and self.background_mode != "solid":
            raise ValueError("bg_color is only allowed with background_mode: solid")
        parsed = [f for _, f, _, _ in string.Formatter().parse(self.naming) if f is not None]
        if any(not f for f in parsed):
            raise ValueError("naming: every {} needs a name, such as {character}")
        fields = set(parsed)
        unknown = sorted(fields - NAME_FIELDS)
        if unknown:
            raise ValueError(f"naming: unknown field(s) {unknown}; use {sorted(NAME_FIELDS)}")
        if self.watch == self.output:
            raise ValueError("watch and output must be different folders")
        watched_deep = self.recursive or getattr(self, "kind", "") == "jobs"
        if watched_deep and self.watch in self.output.parents:
            raise ValueError(
                "output may not be inside watch when subfolders are watched "
                "(outputs would be taken as inputs)"
            )
        return self


class CharactersRule(RuleBase):
    """Every image that settles in ``watch`` is rendered against each scene in ``scenes``."""

    kind: Literal["characters"]
    scenes: Annotated[list[SceneSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _scenes_fit_mode(self) -> CharactersRule:
        if self.mode == "on_demand" and any(s.video is None for s in self.scenes):
            raise ValueError("template and scene_id scenes need mode: preprocessed")
        return self


class ScenesRule(RuleBase):
    """Every driving video that settles in ``watch`` is performed by each of ``characters``."""

    kind: Literal["scenes"]
    characters: Annotated[list[ConfigPath], Field(min_length=1)]


class PairsRule(RuleBase):
    """An image and a video with the same stem form one job; a lone file waits for its
    partner up to ``pair_timeout`` and is then filed in ``failed/`` as an orphan."""

    kind: Literal["pairs"]
    pair_timeout: Duration = 600.0


class JobsRule(RuleBase):
    """A job folder (complete when ``READY`` appears, or settled) or a ``*.job.yaml``
    manifest names everything: characters, scene or template, mapping, options, output."""

    kind: Literal["jobs"]


Rule = Annotated[CharactersRule | ScenesRule | PairsRule | JobsRule, Field(discriminator="kind")]

# What a rule of each kind takes from its watch folder; a jobs rule also owns the images and
# videos its manifests name there. Two rules on one folder must not both want a file.
TAKES: Final[dict[str, frozenset[str]]] = {
    "characters": frozenset({"images"}),
    "scenes": frozenset({"videos"}),
    "pairs": frozenset({"images", "videos"}),
    "jobs": frozenset({"images", "videos", "job manifests"}),
}


def shared_folder_conflict(a: Rule, b: Rule) -> str | None:
    """Why two rules may not watch the same folder (both would want the same files), or None.

    The intake hands each settled file to one rule: the second would silently never see it."""
    if a.watch != b.watch:
        return None
    both = TAKES[a.kind] & TAKES[b.kind]
    if not both:
        return None
    return (
        f"rules {a.name} and {b.name} both watch {a.watch} and both take its "
        f"{' and '.join(sorted(both))}; give each rule its own folder"
    )


_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


def fixed_inputs(rule: CharactersRule | ScenesRule | PairsRule | JobsRule) -> list[Path]:
    """The files a rule names itself (scene videos, cast and character images)."""
    if isinstance(rule, CharactersRule):
        return [s.video for s in rule.scenes if s.video] + [
            p for s in rule.scenes for p in s.cast.values()
        ]
    if isinstance(rule, ScenesRule):
        return list(rule.characters)
    return []


def missing_assets(rule: CharactersRule | ScenesRule | PairsRule | JobsRule) -> list[Path]:
    """The files the rule itself names that are not there: the rule's trouble, not its inputs'
    (they wait, and are taken once the files are back)."""
    return [path for path in fixed_inputs(rule) if not path.is_file()]


def parse_rule(
    data: Any, base: Path | None = None
) -> CharactersRule | ScenesRule | PairsRule | JobsRule:
    """Validate one rule mapping (as found in a rule file); relative paths start at ``base``."""
    return _RULE.validate_python(data, context={"base": base})


class Manifest(Strict):
    """A ``*.job.yaml`` (or a job folder's ``job.yaml``). Paths are relative to its folder
    and may not leave the watch root."""

    character: str | None = None
    scene: str | None = None  # a driving video file
    template: ViggleId | None = None
    scene_id: ViggleId | None = None
    segment: ViggleId | None = None  # the person ``character`` plays in a multi-person scene
    mapping: dict[ViggleId, str] = {}  # segment → character image (multi-person)
    model: Model | None = None
    mode: Literal["on_demand", "preprocessed"] | None = None
    background_mode: Literal["original", "solid", "transparent"] | None = None
    bg_color: RGB | None = None
    fast: bool | None = None
    output: str | None = None  # output file stem

    @model_validator(mode="after")
    def _complete(self) -> Manifest:
        given = [k for k in ("scene", "template", "scene_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a manifest needs exactly one of scene, template or scene_id")
        if self.character is None and not self.mapping:
            raise ValueError("a manifest needs a character or a mapping")
        if self.mapping and self.scene is not None:
            raise ValueError("a mapping needs a multi-person template or scene_id")
        if self.segment is not None and self.scene is not None:
            raise ValueError("segment needs a multi-person template or scene_id")
        if self.character is not None and self.mapping and self.segment is None:
            raise ValueError("with a mapping, name the character's segment, or map it too")
        if self.segment is not None and self.segment in self.mapping:
            raise ValueError(f"segment {self.segment} is both the character's and mapped")
        if self.bg_color is not None and self.background_mode not in (None, "solid"):
            raise ValueError("bg_color is only allowed with background_mode: solid")
        return self
