"""Tests for viggle_watch.render.actions: what a person does to a job (retry, resolve, cancel)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from viggle_watch.outputs.failure import FAILED
from viggle_watch.outputs.filing import move_input
from viggle_watch.render.actions import ActionError, cancel, resolve, retry
from viggle_watch.store.assets import AssetKind, AssetStatus, AssetStore
from viggle_watch.store.jobs import Event, InputRef, Job, JobSpec, JobStore, Spend
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
    for step, (src, dst) in enumerate(itertools.pairwise(route), start=1):
        fields: dict[str, Any] = {}
        if dst == S.RENDERING:
            fields = {"viggle_job_id": "vj_1", "render_started_at": T0 + step}
        if dst == S.DONE:
            fields = {"output_path": "/out/hero__dance.mp4", "output_sha256": "f" * 64}
        spend = RENDER_SPEND if dst == S.SUBMITTING else None
        world.jobs.transition(job_id, src, dst, at=T0 + step, spend=spend, **fields)
    return job_id


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


def cleared(job: Job) -> tuple[object, ...]:
    """The fields a retry must reset."""
    return (
        job.viggle_job_id,
        job.progress_pct,
        job.result_url,
        job.output_path,
        job.output_sha256,
        job.error_message,
        job.render_started_at,
        job.next_attempt_at,
        job.assets,
    )


CLEARED: tuple[object, ...] = (None, None, None, None, None, None, None, 0.0, {})


# --- retry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [TO_DONE, (S.QUEUED, S.FAILED), (*TO_RENDERING, S.FAILED), (S.QUEUED, S.CANCELLED)],
    ids=["done", "failed-early", "failed-rendering", "cancelled"],
)
def test_retry_of_an_ended_job_queues_it_afresh(world: World, route: tuple[State, ...]) -> None:
    """done, failed and cancelled jobs go back to queued with the render's fields cleared."""
    job_id = make_job(world, *route)
    world.jobs.update(job_id, route[-1], assets_json='{"character": "chr_1"}', error_message="x")
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert (job.state, cleared(job), world.jobs.events(job_id)[-1]) == (
        S.QUEUED,
        CLEARED,
        Event(T0 + 100, route[-1], S.QUEUED, "retried by a person"),
    )


def test_retry_of_an_uncertain_job_needs_force(world: World) -> None:
    """Without --force an uncertain job is refused, pointing at resolve and --force."""
    job_id = make_job(world, *TO_SUBMITTING, S.UNCERTAIN)
    with pytest.raises(ActionError) as excinfo:
        retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert (str(excinfo.value), get(world, job_id).state) == (
        f"job {job_id} is uncertain: Viggle may already have rendered and charged it. "
        f"Check the Viggle dashboard; if it is there, use `jobs resolve {job_id} "
        "--viggle-job ID`; to render again anyway, add --force",
        S.UNCERTAIN,
    )


def test_forced_retry_of_an_uncertain_job_queues_it_and_keeps_the_spend(world: World) -> None:
    """--force queues it (saying it may pay twice); the possible charge stays counted."""
    job_id = make_job(world, *TO_SUBMITTING, S.UNCERTAIN)
    job = retry(world.jobs, world.assets, job_id, force=True, now=T0 + 100)
    assert (job.state, world.jobs.events(job_id)[-1], world.jobs.spent_on(DAY)) == (
        S.QUEUED,
        Event(T0 + 100, S.UNCERTAIN, S.QUEUED, "retried by a person (--force: may pay twice)"),
        5.0,
    )


def test_forced_retry_forgets_only_the_jobs_uncertain_characters(world: World) -> None:
    """The job's uncertain characters are forgotten (to be made again); nothing else is."""
    hero = InputRef("character", str(world.inbox / "hero.png"), "a" * 64, 3)
    mate = InputRef("cast", "/cast/mate.png", "c" * 64, 3)
    spec = make_spec(hero, cast=(CastMember("seg_2", mate),))
    job_id = make_job(world, S.QUEUED, S.PREPARING, S.UNCERTAIN, spec=spec)
    statuses = {"a": AssetStatus.UNCERTAIN, "c": AssetStatus.UNCERTAIN}
    statuses |= {"d": AssetStatus.UNCERTAIN, "e": AssetStatus.READY}  # d, e: other jobs'
    for sha, status in statuses.items():
        world.assets.begin_create(AssetKind.CHARACTER, sha * 64, job_id=job_id, at=T0)
        world.assets.set(AssetKind.CHARACTER, sha * 64, status, at=T0)
    retry(world.jobs, world.assets, job_id, force=True, now=T0 + 100)
    left = {
        sha: asset.status
        for sha in "acde"
        if (asset := world.assets.get(AssetKind.CHARACTER, sha * 64)) is not None
    }
    assert left == {"d": AssetStatus.UNCERTAIN, "e": AssetStatus.READY}


@pytest.mark.parametrize(
    "route",
    [(S.QUEUED,), TO_SUBMITTING, TO_RENDERING, (S.QUEUED, S.WAITING_BUDGET)],
    ids=["queued", "submitting", "rendering", "waiting_budget"],
)
def test_retry_of_a_live_job_is_refused(world: World, route: tuple[State, ...]) -> None:
    """A job still on its way cannot be retried, even with force."""
    job_id = make_job(world, *route)
    with pytest.raises(ActionError) as excinfo:
        retry(world.jobs, world.assets, job_id, force=True, now=T0 + 100)
    assert (str(excinfo.value), get(world, job_id).state) == (
        f"job {job_id} is {route[-1]}; only done, failed, cancelled or uncertain jobs can be "
        "retried",
        route[-1],
    )


def test_retry_of_an_unknown_job_is_refused(world: World) -> None:
    """No such job: a clear error."""
    with pytest.raises(ActionError) as excinfo:
        retry(world.jobs, world.assets, 404, force=False, now=T0)
    assert str(excinfo.value) == "there is no job 404"


def test_retry_keeps_an_input_that_is_still_in_place(world: World) -> None:
    """The input never moved: spec and source path are unchanged."""
    ref = drop_input(world.inbox, "hero.png", b"hero bytes")
    job_id = make_job(world, S.QUEUED, S.FAILED, spec=make_spec(ref))
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert (job.spec.character, job.source_path) == (ref, ref.path)


def test_retry_follows_the_input_into_processed(world: World) -> None:
    """The input filed under processed/ (renamed, beside a different same-name file) is found
    by its content, and the job's spec and source path point there."""
    ref = drop_input(world.inbox, "hero.png", b"hero bytes")
    job_id = make_job(world, *TO_DONE, spec=make_spec(ref))
    processed = world.inbox / "processed"
    drop_input(processed, "hero.png", b"another hero with the same name")
    Path(ref.path).rename(processed / "hero-2.png")
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    moved = str(processed / "hero-2.png")
    assert (job.spec.character, job.source_path, get(world, job_id).spec.character.path) == (
        InputRef("character", moved, ref.sha256, ref.size),
        moved,
        moved,
    )


def test_retry_is_not_fooled_by_a_later_file_under_the_same_name(world: World) -> None:
    """The input was filed in processed/; a new, different hero.png was dropped since: the
    retry renders the job's own bytes from processed/, not the newcomer."""
    ref = drop_input(world.inbox, "hero.png", b"hero bytes")
    job_id = make_job(world, *TO_DONE, spec=make_spec(ref))
    processed = world.inbox / "processed"
    processed.mkdir()
    Path(ref.path).rename(processed / "hero.png")
    drop_input(world.inbox, "hero.png", b"a later hero, other bytes")
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert job.spec.character.path == str(processed / "hero.png")


def _into(folder: Path, ref: InputRef) -> Path:
    """``folder``/<the input's name>, with ``folder`` created."""
    folder.mkdir(exist_ok=True)
    return folder / Path(ref.path).name


def test_retry_of_a_vanished_input_keeps_the_old_path(world: World) -> None:
    """Nothing with the same content anywhere: the job is queued with the path it had."""
    ref = drop_input(world.inbox, "hero.png", b"hero bytes")
    job_id = make_job(world, S.QUEUED, S.FAILED, spec=make_spec(ref))
    drop_input(world.inbox / "processed", "hero.png", b"other content")
    Path(ref.path).unlink()
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert (job.state, job.spec.character, job.source_path) == (S.QUEUED, ref, ref.path)


def test_retry_follows_an_input_refiled_from_processed_to_failed(world: World) -> None:
    """A second retry finds the input that moved from processed/ to its sibling failed/."""
    ref = drop_input(world.inbox / "processed", "hero.png", b"hero bytes")
    job_id = make_job(world, S.QUEUED, S.FAILED, spec=make_spec(ref))
    assert move_input(Path(ref.path), FAILED) == world.inbox / "failed" / "hero.png"
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert job.source_path == str(world.inbox / "failed" / "hero.png")


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        pytest.param("hero.png", "failed", id="filed-under-failed"),
        pytest.param("hero[1].png", "processed", id="name-has-brackets"),
    ],
)
def test_retry_follows_an_input_filed_away(world: World, name: str, folder: str) -> None:
    """An input filed under failed/ is found too; glob metacharacters in its name do not hide it."""
    ref = drop_input(world.inbox, name, b"hero bytes")
    job_id = make_job(world, S.QUEUED, S.FAILED, spec=make_spec(ref))
    Path(ref.path).rename(_into(world.inbox / folder, ref))
    job = retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    assert job.source_path == str(world.inbox / folder / name)


# --- resolve ---------------------------------------------------------------------------------


def test_resolve_follows_the_viggle_job_a_person_found(world: World) -> None:
    """An uncertain submission becomes rendering with the given Viggle id, polled at once."""
    job_id = make_job(world, *TO_SUBMITTING, S.UNCERTAIN)
    job = resolve(world.jobs, job_id, viggle_job="vj_found", now=T0 + 100)
    assert (
        job.state,
        job.viggle_job_id,
        job.render_started_at,
        job.next_attempt_at,
        world.jobs.events(job_id)[-1],
        world.jobs.spent_on(DAY),
    ) == (
        S.RENDERING,
        "vj_found",
        T0 + 100,
        T0 + 100,
        Event(T0 + 100, S.UNCERTAIN, S.RENDERING, "resolved by a person: viggle job vj_found"),
        5.0,
    )


def test_resolve_refuses_an_uncertain_character_creation(world: World) -> None:
    """Uncertain from preparing means no render was sent: there is nothing to follow."""
    job_id = make_job(world, S.QUEUED, S.PREPARING, S.UNCERTAIN)
    with pytest.raises(ActionError) as excinfo:
        resolve(world.jobs, job_id, viggle_job="vj_x", now=T0 + 100)
    assert (str(excinfo.value), get(world, job_id).state) == (
        f"job {job_id} is uncertain because creating its character lost its answer; no render "
        f"was sent. Use `jobs retry {job_id} --force` to create it again",
        S.UNCERTAIN,
    )


@pytest.mark.parametrize(
    "route", [(S.QUEUED,), TO_RENDERING, TO_DONE], ids=["queued", "rendering", "done"]
)
def test_resolve_refuses_a_job_that_is_not_uncertain(
    world: World, route: tuple[State, ...]
) -> None:
    """Only uncertain jobs can be resolved."""
    job_id = make_job(world, *route)
    with pytest.raises(ActionError) as excinfo:
        resolve(world.jobs, job_id, viggle_job="vj_x", now=T0 + 100)
    assert (str(excinfo.value), get(world, job_id).state) == (
        f"job {job_id} is {route[-1]}; only uncertain jobs can be resolved",
        route[-1],
    )


# --- cancel ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [(S.QUEUED,), (*TO_SUBMITTING, S.QUEUED), (*TO_SUBMITTING, S.WAITING_BUDGET)],
    ids=["queued", "requeued", "waiting_budget"],
)
def test_cancel_of_a_waiting_job_leaves_the_ledger_alone(
    world: World, route: tuple[State, ...]
) -> None:
    """Not at Viggle now: cancelled; credits of earlier attempts were settled when those
    attempts ended, so the ledger does not change (an older real charge is never erased)."""
    job_id = make_job(world, *route)
    before = world.jobs.spent_on(DAY)
    job = cancel(world.jobs, None, job_id, now=T0 + 100)
    assert (job.state, world.jobs.events(job_id)[-1], world.jobs.spent_on(DAY)) == (
        S.CANCELLED,
        Event(T0 + 100, route[-1], S.CANCELLED, "cancelled by a person"),
        before,
    )


def test_cancel_refunds_only_the_render_not_characters(world: World) -> None:
    """Character credits (spent on preprocessing) stay counted when a job is cancelled."""
    job_id = make_job(world, *TO_SUBMITTING, S.WAITING_BUDGET)
    world.assets.begin_create(
        AssetKind.CHARACTER, "a" * 64, job_id=job_id, at=T0, credits=1.0, day=DAY
    )
    before = world.jobs.spent_on(DAY)
    cancel(world.jobs, None, job_id, now=T0 + 100)
    assert world.jobs.spent_on(DAY) == before


def test_cancel_of_an_uncertain_job_keeps_its_spend(world: World) -> None:
    """It may have been charged: cancelled, credits still counted."""
    job_id = make_job(world, *TO_SUBMITTING, S.UNCERTAIN)
    job = cancel(world.jobs, None, job_id, now=T0 + 100)
    assert (job.state, world.jobs.spent_on(DAY)) == (S.CANCELLED, 5.0)


@pytest.mark.parametrize(
    "route", [TO_SUBMITTING, (*TO_RENDERING, S.DOWNLOADING)], ids=["submitting", "downloading"]
)
def test_cancel_mid_step_is_refused(world: World, route: tuple[State, ...]) -> None:
    """While a POST or a download is under way, cancel asks to try again in a moment."""
    job_id = make_job(world, *route)
    with pytest.raises(ActionError) as excinfo:
        cancel(world.jobs, None, job_id, now=T0 + 100)
    assert (str(excinfo.value), get(world, job_id).state, world.jobs.spent_on(DAY)) == (
        f"job {job_id} is {route[-1]} right now; try again in a moment",
        route[-1],
        5.0,
    )


@pytest.mark.parametrize(
    "route", [TO_DONE, (S.QUEUED, S.FAILED), (S.QUEUED, S.CANCELLED)], ids=lambda r: str(r[-1])
)
def test_cancel_of_an_ended_job_is_refused(world: World, route: tuple[State, ...]) -> None:
    """A done, failed or cancelled job cannot be cancelled."""
    job_id = make_job(world, *route)
    with pytest.raises(ActionError) as excinfo:
        cancel(world.jobs, None, job_id, now=T0 + 100)
    assert str(excinfo.value) == f"job {job_id} is already {route[-1]}"


def test_cancel_of_a_rendering_job_without_a_client_is_refused(world: World) -> None:
    """Stopping a render at Viggle needs the API; without a client nothing changes."""
    job_id = make_job(world, *TO_RENDERING)
    with pytest.raises(ActionError) as excinfo:
        cancel(world.jobs, None, job_id, now=T0 + 100)
    assert (str(excinfo.value), get(world, job_id).state, world.jobs.spent_on(DAY)) == (
        "cancelling a rendering job needs the API key",
        S.RENDERING,
        5.0,
    )
