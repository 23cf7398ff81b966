"""A job store in a temp dir, with helpers to move jobs along: what the tests of
``render.actions`` (retry, resolve, cancel) work on."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from viggle_watch.store.assets import AssetStore
from viggle_watch.store.jobs import InputRef, Job, JobSpec, JobStore, Spend
from viggle_watch.store.spec import CastMember
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State

T0 = 1_700_000_000.0
DAY = "2023-11-14"  # the UTC day of T0
S = State
TO_SUBMITTING = (S.QUEUED, S.PREPARING, S.SUBMITTING)
TO_RENDERING = (*TO_SUBMITTING, S.RENDERING)
TO_DONE = (*TO_RENDERING, S.DOWNLOADING, S.DONE)
RENDER_SPEND = Spend("render", 5.0, DAY)


@dataclass
class World:
    jobs: JobStore
    assets: AssetStore
    inbox: Path  # a watch folder on disk


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A real store file, its asset cache and an empty watch folder."""
    db = Database.open(tmp_path / "state" / "state.db")
    inbox = tmp_path / "in"
    inbox.mkdir()
    yield World(JobStore(db), AssetStore(db), inbox)
    db.close()


def make_spec(character: InputRef, cast: tuple[CastMember, ...] = ()) -> JobSpec:
    """A render of ``character`` dancing, with an optional cast."""
    return JobSpec(
        rule="dance",
        character=character,
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 5000),
        model="V4_Preview",
        output_name="hero__dance",
        cast=cast,
    )


def make_job(world: World, *route: State, spec: JobSpec | None = None, key: str = "k1") -> int:
    """Enqueue a job and move it along ``route`` (starting at queued), spending at submitting."""
    spec = spec or make_spec(InputRef("character", str(world.inbox / "hero.png"), "a" * 64, 3))
    job_id = world.jobs.enqueue(spec, dedup_key=key, source_path=spec.character.path, at=T0)
    assert job_id is not None
    walk(world, job_id, *route, at=T0)
    return job_id


def walk(world: World, job_id: int, *route: State, at: float) -> None:
    """Move the job along ``route`` (from its first state), a second apart from ``at``,
    spending at submitting."""
    for step, (src, dst) in enumerate(itertools.pairwise(route), start=1):
        fields: dict[str, Any] = {}
        if dst == S.RENDERING:
            fields = {"viggle_job_id": "vj_1", "render_started_at": at + step}
        if dst == S.DONE:
            fields = {"output_path": "/out/hero__dance.mp4", "output_sha256": "f" * 64}
        spend = RENDER_SPEND if dst == S.SUBMITTING else None
        world.jobs.transition(job_id, src, dst, at=at + step, spend=spend, **fields)


def get(world: World, job_id: int) -> Job:
    """The job, which must exist."""
    job = world.jobs.get(job_id)
    assert job is not None
    return job


def drop_input(folder: Path, name: str, data: bytes) -> InputRef:
    """Write an input file and describe it as the rules engine would."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return InputRef("character", str(path), hashlib.sha256(data).hexdigest(), len(data))
