"""Pure: what a settled file becomes — render requests, a refusal, a wait for its partner, or
nothing. The intake tick and ``viggle-watch plan`` both ask here, so they cannot disagree.

The I/O around it (``intake.facts``) reads what a decision needs — a file's check result, a
manifest's text, whether the files it names are real files inside the watch folder — and
hands those facts in; nothing here touches the disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from viggle_watch.config import JobsRule, PairsRule, Rule, ScenesRule
from viggle_watch.intake.checks import Problem
from viggle_watch.rules.manifest import ManifestError
from viggle_watch.rules.pairing import (
    RenderRequest,
    is_image,
    is_manifest,
    is_video,
    pair_partner,
    pair_request,
    requests_for,
)

Role = Literal["image", "character", "driving", "scene"]
"""How a file is checked (docs/viggle-api.md §4): ``image`` is a character sent with the render
(PNG or JPEG), ``character`` one made first in preprocessed mode (PNG, JPEG or WebP), ``driving``
a render's video (MP4, MOV or AVI), ``scene`` one made into a scene first (MP4, MOV or WebM)."""


@dataclass(frozen=True, slots=True)
class Make:
    """Enqueue these render requests (made from ``path``)."""

    requests: tuple[RenderRequest, ...]


@dataclass(frozen=True, slots=True)
class Refuse:
    """File ``path`` in ``failed/`` with ``NAME.error.json`` saying why; no API call."""

    problem: Problem


@dataclass(frozen=True, slots=True)
class Wait:
    """A pairs rule's file whose partner has not arrived yet: hold it under its stem."""

    stem: str


@dataclass(frozen=True, slots=True)
class Ignore:
    """Nothing for this rule to do with the file (a loose file in a jobs folder, say)."""


Decision = Make | Refuse | Wait | Ignore


@dataclass(frozen=True, slots=True)
class Named:
    """What the I/O found of one file a manifest names (``problem`` from its check)."""

    path: Path
    link: bool = False  # a symbolic link (never followed)
    inside: bool = True  # its real path is inside the watch folder
    exists: bool = True  # a regular file
    problem: Problem | None = None


def wanted(rule: Rule, path: Path) -> bool:
    """Could this kind of rule do anything with this file?"""
    if isinstance(rule, JobsRule):
        return is_manifest(path)
    if isinstance(rule, PairsRule):
        return is_image(path) or is_video(path)
    if isinstance(rule, ScenesRule):
        return is_video(path)
    return is_image(path)


def video_role(rule: Rule, mode: str | None = None) -> Role:
    """On demand the video drives the render; preprocessed, it becomes a scene first (which
    the API takes as MP4, MOV or WebM, where a driving video may be MP4, MOV or AVI).
    ``mode``: a manifest's own ``mode:``, over the rule's."""
    return "driving" if (mode or rule.mode) == "on_demand" else "scene"


def role_of(rule: Rule, path: Path, mode: str | None = None) -> Role | None:
    """How ``path`` is checked before anything is spent on it, or None for no check."""
    preprocessed = (mode or rule.mode) == "preprocessed"
    if is_image(path):
        return "character" if preprocessed else "image"
    if is_video(path):
        return video_role(rule, mode)
    return None


def named_files(request: RenderRequest) -> list[Path]:
    """Every input file a request sends: the character, the cast, the scene video."""
    files = [request.character, *request.scene.cast.values()]
    return files + ([request.scene.video] if request.scene.video else [])


def decide_file(
    rule: Rule, path: Path, problem: Problem | None, waiting: Mapping[str, Path]
) -> Decision:
    """A settled file of a characters, scenes or pairs rule, given its check's ``problem``
    and, for pairs, the files already waiting for a partner (by stem)."""
    if isinstance(rule, JobsRule):
        return Ignore()  # a jobs rule works from manifests: see decide_manifest
    if problem is not None:
        return Refuse(problem)
    if isinstance(rule, PairsRule):
        if not (is_image(path) or is_video(path)):
            return Ignore()
        partner = pair_partner(path, waiting)
        if partner is None:
            return Wait(path.stem)
        return Make((pair_request(rule, path, partner),))
    requests = requests_for(rule, path)
    return Make(tuple(requests)) if requests else Ignore()


def decide_manifest(found: RenderRequest | ManifestError, named: list[Named]) -> Decision:
    """A job manifest (or job folder) read into a request, given what the files it names
    are: a refusal names the first file that is outside, missing or not sendable."""
    if isinstance(found, ManifestError):
        return Refuse(Problem("bad_manifest", found.reason, {}))
    for file in named:
        if file.link or not file.inside:
            return Refuse(
                Problem(
                    "outside_root",
                    f"{file.path.name} points outside the watch folder.",
                    {"path": str(file.path)},
                )
            )
        if not file.exists:
            reason = f"{file.path.name} does not exist."
            return Refuse(Problem("missing", reason, {"path": str(file.path)}))
        if file.problem is not None:
            return Refuse(file.problem)
    return Make((found,))


def skip_for_collision(rule: Rule, output_exists: bool) -> bool:
    """``collision: skip`` and the output is there already: no render, no spending."""
    return rule.collision == "skip" and output_exists
