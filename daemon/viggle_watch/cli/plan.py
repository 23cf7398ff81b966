"""`viggle-watch plan`: what the service would do with the folders as they are now.

A dry run: the jobs each rule would create, their output names and collisions, what would be
refused and why, and the estimated credits. It reads the folders and the job store and
changes nothing: no file is moved, no job written, no API endpoint called.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from viggle_watch.config import Config, JobsRule, PairsRule, Rule
from viggle_watch.intake.checks import Problem, VideoFacts, check_image, check_video
from viggle_watch.intake.spec import SpecBuilder
from viggle_watch.intake.tick import Intake
from viggle_watch.render.budget import estimate_credits
from viggle_watch.rules.manifest import (
    FOLDER_MANIFEST,
    ManifestError,
    folder_request,
    manifest_request,
)
from viggle_watch.rules.pairing import (
    RenderRequest,
    is_image,
    is_manifest,
    is_video,
    pair_request,
    requests_for,
)
from viggle_watch.store.assets import AssetKind, AssetStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.spec import dedup_key


@dataclass(frozen=True, slots=True)
class Planned:
    """One line of the plan: a job that would be created, or a file that would be refused."""

    rule: str
    source: str
    action: str  # "render" | "duplicate" | "skip" | "refuse" | "wait"
    output: str = ""
    collision: str = ""
    credits: float = 0.0
    reason: str = ""


def _problem(path: Path) -> Problem | None:
    if is_image(path):
        return check_image(path)
    if is_video(path):
        facts = check_video(path)
        return facts if isinstance(facts, Problem) else None
    return None


def _requests(rule: Rule, paths: list[Path]) -> list[RenderRequest | Planned]:
    out: list[RenderRequest | Planned] = []
    if isinstance(rule, PairsRule):
        by_stem: dict[str, list[Path]] = {}
        for p in paths:
            if is_image(p) or is_video(p):
                by_stem.setdefault(p.stem, []).append(p)
        for stem, group in sorted(by_stem.items()):
            images = [p for p in group if is_image(p)]
            videos = [p for p in group if is_video(p)]
            if images and videos:
                out.append(pair_request(rule, images[0], videos[0]))
            else:
                out.append(
                    Planned(
                        rule.name,
                        str(group[0]),
                        "wait",
                        reason=f"waiting for the partner of {stem}",
                    )
                )
        return out
    for p in paths:
        if isinstance(rule, JobsRule):
            if p.is_dir():
                names = sorted(c.name for c in p.iterdir())
                text = (
                    (p / FOLDER_MANIFEST).read_text(encoding="utf-8", errors="replace")
                    if (p / FOLDER_MANIFEST).is_file()
                    else None
                )
                found = folder_request(rule, p, names, text)
            elif is_manifest(p):
                found = manifest_request(rule, p, p.read_text(encoding="utf-8", errors="replace"))
            else:
                continue
            out.append(
                Planned(rule.name, str(p), "refuse", reason=found.reason)
                if isinstance(found, ManifestError)
                else found
            )
        else:
            out.extend(requests_for(rule, p))
    return out


class Planner:
    def __init__(self, config: Config, store: JobStore | None, assets: AssetStore | None) -> None:
        self._config, self._store, self._assets = config, store, assets
        self._specs = SpecBuilder()

    def plan(self) -> list[Planned]:
        lines: list[Planned] = []
        for rule in self._config.rules:
            for item in _requests(rule, Intake.candidates(rule)):
                lines.append(item if isinstance(item, Planned) else self._line(item))
        return lines

    def _line(self, request: RenderRequest) -> Planned:
        rule, source = request.rule, str(request.sources[0])
        files = [request.character, *request.scene.cast.values()]
        files += [request.scene.video] if request.scene.video else []
        for file in files:
            problem = _problem(file)
            if problem is not None:
                return Planned(rule.name, source, "refuse", reason=problem.reason)
        facts = check_video(request.scene.video) if request.scene.video else None
        seconds = facts.duration_s if isinstance(facts, VideoFacts) else None
        spec = self._specs.build(request, now=time.time(), video_s=seconds)
        target = rule.output / f"{spec.output_name}.mp4"
        collision = ("exists: " + rule.collision) if target.exists() else ""
        new_characters = 0
        if spec.mode == "preprocessed":
            shas = {c.sha256 for c in spec.characters}
            new_characters = sum(
                1
                for sha in shas
                if self._assets is None or self._assets.get(AssetKind.CHARACTER, sha) is None
            )
        credits = float(
            estimate_credits(seconds or 0.0, fast=spec.options.fast, new_characters=new_characters)
        )
        if self._store is not None and self._store.has_dedup_key(dedup_key(spec)):
            return Planned(
                rule.name,
                source,
                "duplicate",
                target.name,
                reason="already rendered (same content, scene, model and options)",
            )
        if collision and rule.collision == "skip":
            return Planned(
                rule.name,
                source,
                "skip",
                target.name,
                collision,
                reason="the output exists and collision is skip",
            )
        note = "" if seconds is not None or spec.scene is None else "length unknown"
        return Planned(rule.name, source, "render", target.name, collision, credits, note)
