"""Pure: which renders a newly settled file asks for, under each kind of rule."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from daemon.config import CharactersRule, Rule, SceneSpec

IMAGE_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".webp"})
VIDEO_SUFFIXES: Final = frozenset({".mp4", ".mov", ".avi", ".webm"})


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """One render a rule wants: this character image performing this scene, under this rule."""

    rule: Rule
    character: Path
    scene: SceneSpec


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def characters_requests(rule: CharactersRule, file: Path) -> list[RenderRequest]:
    """A ``characters`` rule fans an image out over every scene of the rule."""
    if not is_image(file):
        return []
    return [RenderRequest(rule, file, scene) for scene in rule.scenes]


def requests_for(rule: Rule, file: Path) -> list[RenderRequest]:
    """The renders ``rule`` asks for when ``file`` settles in its watch folder."""
    return characters_requests(rule, file)


def rule_for(rules: list[Rule], file: Path) -> Rule | None:
    """The rule whose watch folder directly holds ``file``."""
    for rule in rules:
        if file.parent == rule.watch:
            return rule
    return None
