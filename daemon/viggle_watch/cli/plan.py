"""`viggle-watch plan`: what the service would do with the folders as they are now.

A dry run: the jobs each rule would create, their output names and collisions, what would be
refused and why, and the estimated credits. It reads the folders and the job store and
changes nothing: no file is moved, no job written, no API endpoint called.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from viggle_watch.clock import day_of
from viggle_watch.config import Config, Rule
from viggle_watch.config.kinds import missing_assets
from viggle_watch.intake.decide import Make, Refuse, Wait, skip_for_collision
from viggle_watch.intake.facts import Facts
from viggle_watch.intake.spec import SpecBuilder
from viggle_watch.intake.unused import candidates
from viggle_watch.outputs.naming import delivered_beside
from viggle_watch.render.budget import beyond_cap, estimate_credits
from viggle_watch.rules.pairing import RenderRequest
from viggle_watch.store.assets import AssetKind, AssetStore
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.remembered import Remembered
from viggle_watch.store.spec import dedup_key
from viggle_watch.store.states import State

WAITS = "would wait: today's daily_credits are used by the renders above"
SEEN = "taken as seen (handled and left in place, or by `store reset`): touch it to render it"


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
    waits_for_budget: bool = False  # today's remaining credits are used by the lines before
    also: tuple[str, ...] = ()  # what `deliver:` adds beside ``output`` (the poster, …)
    job: int | None = None  # a duplicate: the job made for it already


class Planner:
    """Each rule's candidates, in order, through the intake's own decision (``Facts.decide``):
    what the service would make of the folders as they are, without changing anything."""

    def __init__(
        self,
        config: Config,
        store: JobStore | None,
        assets: AssetStore | None,
        remembered: Remembered | None = None,
    ) -> None:
        self._config, self._store, self._assets = config, store, assets
        self._specs = SpecBuilder(remembered)  # what the service or an earlier plan measured
        self._facts = Facts(remembered)

    def plan(self, now: float) -> list[Planned]:
        lines: list[Planned] = []
        for rule in self._config.rules:
            lines.extend(self._rule(rule))
        renders = [i for i, line in enumerate(lines) if line.action == "render"]
        waits = beyond_cap(
            [lines[i].credits for i in renders],
            spent_today=self.spent_today(now),
            daily_cap=self._config.budget.daily_credits,
        )
        for i, wait in zip(renders, waits, strict=True):
            if wait:
                lines[i] = replace(lines[i], waits_for_budget=True, reason=WAITS)
        return lines

    def spent_today(self, now: float) -> float:
        return self._store.spent_on(day_of(now)) if self._store is not None else 0.0

    def _rule(self, rule: Rule) -> list[Planned]:
        lines: list[Planned] = []
        waiting: dict[str, Path] = {}  # a pairs rule's files whose partner is not there
        # the rule's own file gone: what the service does with such an input (intake.tick)
        missing = missing_assets(rule)
        absent = (
            f"{missing[0]} (the rule's own file) is missing: the input waits and is taken "
            "once it is back"
            if missing
            else ""
        )
        for entry in candidates(rule):
            path = entry.path
            if self._store is not None and self._store.seen(
                rule.name, str(path), entry.size, entry.mtime_ns
            ):  # as the intake does (intake.tick): it never looks at such a file again
                lines.append(Planned(rule.name, str(path), "skip", reason=SEEN))
                continue
            decision = self._facts.decide(rule, path, waiting)
            if isinstance(decision, Refuse):
                lines.append(
                    Planned(rule.name, str(path), "refuse", reason=decision.problem.reason)
                )
            elif isinstance(decision, Wait):
                waiting[decision.stem] = path
            elif isinstance(decision, Make):
                waiting.pop(path.stem, None)
                if absent:
                    lines.append(Planned(rule.name, str(path), "wait", reason=absent))
                else:
                    lines.extend(self._line(request) for request in decision.requests)
        for stem, path in sorted(waiting.items()):
            lines.append(
                Planned(rule.name, str(path), "wait", reason=f"waiting for the partner of {stem}")
            )
        return lines

    def _line(self, request: RenderRequest) -> Planned:
        rule, source = request.rule, str(request.sources[0])
        try:
            seconds = self._facts.scene_seconds(request)
        except ValueError as exc:
            return Planned(rule.name, source, "refuse", reason=str(exc))
        spec = self._specs.build(request, now=time.time(), video_s=seconds)
        target = rule.output / f"{spec.output_name}.mp4"
        also = tuple(p.name for p in delivered_beside(target, rule.deliver))
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
        made = self._store.by_dedup_key(dedup_key(spec)) if self._store is not None else None
        if made is not None:  # the same content, scene, model and options: no second job
            return Planned(
                rule.name, source, "duplicate", target.name, reason=already(made), job=made.id
            )
        if skip_for_collision(rule, target.exists()):
            return Planned(
                rule.name,
                source,
                "skip",
                target.name,
                collision,
                reason="the output exists and collision is skip",
            )
        note = "" if seconds is not None or spec.scene is None else "length unknown"
        return Planned(
            rule.name, source, "render", target.name, collision, credits, note, also=also
        )


def already(job: Job) -> str:
    """Why a file makes no new job: the one made for the same render, in the words of its
    state (a queued or budget-waiting job is not "rendered")."""
    if job.state == State.DONE:
        return f"already rendered: job {job.id}"
    if job.state == State.REVIEW:
        return f"already rendered: job {job.id}, held for review"
    if job.state in (State.FAILED, State.CANCELLED):
        return f"already a job: {job.id}, {job.state} (`jobs retry {job.id}` renders it again)"
    if job.state == State.UNCERTAIN:
        return f"already a job: {job.id}, uncertain (`status` says what to do)"
    return f"already a job: {job.id}, {job.state}, not rendered yet"
