"""The checks every drill prints: jobs lost, inputs rendered twice, outputs verified against
their sidecar and the emulator's bytes, ``.part`` files left, and why each uncertain job ended
there."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.states import State


def served_sha256(base_url: str, viggle_job_id: str) -> str:
    """sha256 of the bytes the emulator serves for a render (a fresh status GET, then the CDN).
    Call it with the faults cleared: the status GET needs no key."""
    status = requests.get(f"{base_url}/api/render/{viggle_job_id}", timeout=10).json()
    body = requests.get(status["cdn_url"], timeout=10).content
    return hashlib.sha256(body).hexdigest()


@dataclass
class OutputCheck:
    """Every output of a done job, checked three ways; what is left over in the output folders."""

    verified: int = 0
    corrupt: list[str] = field(default_factory=list)
    parts: list[Path] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.corrupt) + len(self.parts) + len(self.orphans)

    def line(self) -> str:
        return (
            f"outputs verified (file = sidecar = store = emulator bytes): {self.verified}; "
            f"corrupt or partial: {len(self.corrupt)}; .part left: {len(self.parts)}; "
            f"orphan videos: {len(self.orphans)} (target 0 each)"
        )


def _check_one(job: Job, served: Callable[[str], str]) -> str | None:
    """What is wrong with a done job's output, or None."""
    if not job.output_path or not job.viggle_job_id:
        return f"job {job.id}: done without an output or a Viggle id"
    video = Path(job.output_path)
    sidecar = video.with_suffix(".json")
    if not video.is_file() or not sidecar.is_file():
        return f"job {job.id}: {video.name} or its sidecar is missing"
    data = video.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    found = {
        "file": (digest, len(data)),
        "sidecar": (doc["output"]["sha256"], doc["output"]["size"]),
        "store": (job.output_sha256, job.output_size),
        "emulator": (served(job.viggle_job_id), len(data)),
    }
    if len(set(found.values())) != 1:
        return f"job {job.id}: {video.name} differs: {found}"
    return None


def check_outputs(jobs: list[Job], out_dirs: Iterable[Path], base_url: str) -> OutputCheck:
    """Each done job's video: its sha256 and size against its sidecar, the store and the bytes
    the emulator serves; then ``.part`` files and videos no done job owns."""
    check = OutputCheck()
    cache: dict[str, str] = {}

    def served(viggle_job_id: str) -> str:
        if viggle_job_id not in cache:
            cache[viggle_job_id] = served_sha256(base_url, viggle_job_id)
        return cache[viggle_job_id]

    owned: set[Path] = set()
    for job in jobs:
        if job.state != State.DONE:
            continue
        problem = _check_one(job, served)
        if problem:
            check.corrupt.append(problem)
        else:
            check.verified += 1
        owned.update(Path(p) for p in (job.output_path, job.mask_path) if p)
    for folder in out_dirs:
        check.parts += sorted(folder.rglob("*.part"))
        check.orphans += [p for p in sorted(folder.rglob("*.mp4")) if p not in owned]
    return check


def submissions_per_input(stats: EmulatorStats) -> Counter[tuple[str | None, str | None]]:
    """How many paid renders the emulator took per (image sha256, driving video sha256)."""
    return Counter(
        (s["ref_image_sha256"], s["driving_video_sha256"]) for s in stats["render_submissions"]
    )


def rendered_twice(stats: EmulatorStats) -> int:
    """Inputs (image x driving video) the emulator rendered more than once (target 0)."""
    return sum(1 for n in submissions_per_input(stats).values() if n > 1)


def api_calls(stats: EmulatorStats) -> Counter[str]:
    """The calls the service made: every ``/api`` endpoint and the CDN (not ``/_sim``)."""
    return Counter({k: v for k, v in stats["calls"].items() if "/api/" in k or "/cdn" in k})


def job_key(job: Job) -> tuple[str, str, str]:
    """What makes a job unique in a drill: the rule, the image and the scene."""
    return (job.rule, job.spec.character.sha256, job.spec.scene_key)


def lost_jobs(jobs: list[Job], expected: int) -> int:
    """Input x scene pairs without exactly one job (target 0)."""
    keys = Counter(job_key(j) for j in jobs)
    duplicated = sum(n - 1 for n in keys.values())
    return max(0, expected - len(keys)) + duplicated


def taken_by_viggle(job: Job, stats: EmulatorStats) -> bool:
    """Whether the emulator holds a paid render of this job's inputs."""
    scene = job.spec.scene.sha256 if job.spec.scene else None
    return submissions_per_input(stats)[(job.spec.character.sha256, scene)] > 0


def uncertain_lines(
    jobs: list[Job], events: dict[int, list[Event]], stats: EmulatorStats
) -> list[str]:
    """One line per uncertain job: its input, the last event's reason, and whether the emulator
    did take (and charge) the request — what a person would find in the dashboard."""
    lines = []
    for job in sorted(jobs, key=lambda j: j.id):
        if job.state != State.UNCERTAIN:
            continue
        history = events.get(job.id, [])
        detail = history[-1].detail if history else "?"
        took = "yes" if taken_by_viggle(job, stats) else "no"
        name = Path(job.spec.character.path).name
        scene = Path(job.spec.scene.path).name if job.spec.scene else job.spec.scene_key
        lines.append(f"job {job.id} ({name} x {scene}): {detail}; Viggle took it: {took}")
    return lines
