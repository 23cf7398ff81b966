"""Pure: job manifests (``*.job.yaml``) and job folders → render requests, kept in their root.

Every path a manifest names is relative to the manifest's folder and must stay inside the
watch root: absolute paths and ``..`` that climbs out are refused (symlinks are checked by
the intake, which can look at the disk).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml
from pydantic import ValidationError

from viggle_watch.config import JobsRule, Manifest, SceneSpec
from viggle_watch.config.load import yaml_problem
from viggle_watch.rules.pairing import Overrides, RenderRequest, is_image, is_video

FOLDER_MANIFEST: Final = "job.yaml"
READY_MARKER: Final = "READY"
MAX_MANIFEST_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ManifestError:
    """Why a manifest or job folder cannot become a job, in words for a person."""

    reason: str


def inside(root: Path, base: Path, name: str) -> Path | None:
    """``base/name`` normalised, or None if it is absolute or climbs out of ``root``."""
    if not name or Path(name).is_absolute() or name.startswith("~"):
        return None
    full = Path(os.path.normpath(base / name))
    if full != root and root not in full.parents:
        return None
    return full


def _load(text: str) -> Manifest | ManifestError:
    if len(text.encode()) > MAX_MANIFEST_BYTES:
        return ManifestError(f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_problem(exc)
        where = f" on line {line}" if line is not None else ""
        return ManifestError(f"the manifest is not valid YAML{where}: {problem}")
    except RecursionError:
        return ManifestError("the manifest is nested too deeply to be a job description")
    if not isinstance(data, dict):
        return ManifestError("the manifest must be a mapping (character, scene or template, …)")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'manifest'}: "
            f"{'unknown key (a typo?)' if e['type'] == 'extra_forbidden' else e['msg']}"
            for e in exc.errors()
        )
        return ManifestError(problems.replace("Value error, ", ""))


def _conflict(rule: JobsRule, parsed: Manifest) -> ManifestError | None:
    """What the manifest asks that the rule and manifest together cannot do."""
    if (parsed.mode or rule.mode) == "on_demand" and parsed.scene is None:
        return ManifestError("a template or scene_id needs mode: preprocessed")
    if parsed.bg_color and (parsed.background_mode or rule.background_mode) != "solid":
        return ManifestError("bg_color is only allowed with background_mode: solid")
    return None


def _path(root: Path, base: Path, name: str, what: str) -> Path | ManifestError:
    found = inside(root, base, name)
    if found is None:
        return ManifestError(f"{what} {name!r} is outside the watch folder")
    return found


def manifest_request(
    rule: JobsRule, manifest: Path, text: str, *, sources: Sequence[Path] = ()
) -> RenderRequest | ManifestError:
    """The job a manifest describes, or why it cannot be one."""
    parsed = _load(text)
    if isinstance(parsed, ManifestError):
        return parsed
    conflict = _conflict(rule, parsed)
    if conflict is not None:
        return conflict
    base, root = manifest.parent, rule.watch
    mapping: dict[str, Path] = {}
    for person, name in sorted(parsed.mapping.items()):
        found = _path(root, base, name, f"mapping.{person}")
        if isinstance(found, ManifestError):
            return found
        mapping[person] = found
    character: Path | None = None
    segment: str | None = parsed.segment
    if parsed.character is not None:
        found = _path(root, base, parsed.character, "character")
        if isinstance(found, ManifestError):
            return found
        character = found
    elif mapping:  # the first mapped person leads; the rest are the cast
        segment = next(iter(mapping))
        character = mapping.pop(segment)
    assert character is not None
    scene: SceneSpec
    if parsed.scene is not None:
        video = _path(root, base, parsed.scene, "scene")
        if isinstance(video, ManifestError):
            return video
        scene = SceneSpec(video=video)
    else:
        scene = SceneSpec(
            template=parsed.template, scene_id=parsed.scene_id, segment=segment, cast=mapping
        )
    overrides = Overrides(
        parsed.model,
        parsed.mode,
        parsed.background_mode,
        parsed.bg_color,
        parsed.fast,
        parsed.output,
    )
    return RenderRequest(rule, character, scene, tuple(sources) or (manifest,), overrides)


def folder_request(
    rule: JobsRule, folder: Path, names: Sequence[str], manifest_text: str | None
) -> RenderRequest | ManifestError:
    """A job folder: its ``job.yaml``, or else exactly one image and one video inside."""
    if manifest_text is not None:
        return manifest_request(rule, folder / FOLDER_MANIFEST, manifest_text, sources=(folder,))
    images = sorted(n for n in names if is_image(Path(n)))
    videos = sorted(n for n in names if is_video(Path(n)))
    if len(images) != 1 or len(videos) != 1:
        return ManifestError(
            f"a job folder needs a {FOLDER_MANIFEST}, or exactly one image and one video "
            f"(found {len(images)} image(s) and {len(videos)} video(s))"
        )
    return RenderRequest(rule, folder / images[0], SceneSpec(video=folder / videos[0]), (folder,))
