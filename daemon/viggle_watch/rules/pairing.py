"""Pure: which renders a settled file asks for, under each kind of rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from viggle_watch.config import CharactersRule, PairsRule, Rule, SceneSpec, ScenesRule

IMAGE_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".webp"})
VIDEO_SUFFIXES: Final = frozenset({".mp4", ".mov", ".avi", ".webm"})
MANIFEST_SUFFIX: Final = ".job.yaml"


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a job manifest sets for itself instead of the rule's values (None: the rule's)."""

    model: str | None = None
    mode: str | None = None
    background_mode: str | None = None
    bg_color: str | None = None
    fast: bool | None = None
    output: str | None = None


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """One render a rule wants: this character performing this scene.

    ``sources`` are the dropped files (or folder) the request came from; they are filed away
    when every job made from them has ended.
    """

    rule: Rule
    character: Path
    scene: SceneSpec
    sources: tuple[Path, ...]
    overrides: Overrides = field(default_factory=Overrides)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def is_manifest(path: Path) -> bool:
    return path.name.lower().endswith(MANIFEST_SUFFIX)


def characters_requests(rule: CharactersRule, file: Path) -> list[RenderRequest]:
    """A ``characters`` rule fans an image out over every scene of the rule."""
    if not is_image(file):
        return []
    return [RenderRequest(rule, file, scene, (file,)) for scene in rule.scenes]


def scenes_requests(rule: ScenesRule, file: Path) -> list[RenderRequest]:
    """A ``scenes`` rule has every character of the rule perform a dropped video."""
    if not is_video(file):
        return []
    scene = SceneSpec(video=file)
    return [RenderRequest(rule, character, scene, (file,)) for character in rule.characters]


def pair_partner(file: Path, waiting: Mapping[str, Path]) -> Path | None:
    """The waiting file with the same stem and the other kind (image ↔ video), if any."""
    other = waiting.get(file.stem)
    if other is None or other == file:
        return None
    if (is_image(file) and is_video(other)) or (is_video(file) and is_image(other)):
        return other
    return None


def pair_request(rule: PairsRule, a: Path, b: Path) -> RenderRequest:
    """The one job of a complete pair: the image performs the video."""
    image, video = (a, b) if is_image(a) else (b, a)
    return RenderRequest(rule, image, SceneSpec(video=video), (image, video))


def orphans(waiting_since: Mapping[Path, float], now: float, timeout_s: float) -> list[Path]:
    """Files whose partner did not arrive within ``timeout_s``."""
    return sorted(p for p, since in waiting_since.items() if now - since >= timeout_s)


def requests_for(rule: Rule, file: Path) -> list[RenderRequest]:
    """The renders a file asks for by itself (pairs and job rules are handled by the intake)."""
    if isinstance(rule, CharactersRule):
        return characters_requests(rule, file)
    if isinstance(rule, ScenesRule):
        return scenes_requests(rule, file)
    return []


def rule_for(
    rules: Sequence[Rule], file: Path, *, skip: frozenset[str] = frozenset()
) -> Rule | None:
    """The rule whose watch folder holds ``file`` (directly, or anywhere below if recursive,
    but not inside a subfolder named in ``skip``, such as ``processed/``)."""
    for rule in rules:
        if file.parent == rule.watch or (
            rule.recursive
            and rule.watch in file.parents
            and not skip & set(file.relative_to(rule.watch).parts)
        ):
            return rule
    return None
