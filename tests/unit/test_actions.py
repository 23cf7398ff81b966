"""Tests for viggle_watch.render.actions: what a person does to a job (retry, resolve, cancel)."""

from __future__ import annotations

import pytest

from tests.support.actions import (
    DAY,
    T0,
    TO_DONE,
    TO_RENDERING,
    TO_SUBMITTING,
    S,
    World,
    get,
    make_job,
    make_spec,
)
from viggle_watch.render.actions import ActionError, cancel, resolve, retry
from viggle_watch.store.assets import AssetKind, AssetStatus
from viggle_watch.store.jobs import Event, InputRef, Job
from viggle_watch.store.spec import CastMember
from viggle_watch.store.states import State


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
        f"job {job_id} is {route[-1]}; only done, failed, cancelled, review or uncertain jobs "
        "can be retried",
        route[-1],
    )


def test_retry_of_an_unknown_job_is_refused(world: World) -> None:
    """No such job: a clear error."""
    with pytest.raises(ActionError) as excinfo:
        retry(world.jobs, world.assets, 404, force=False, now=T0)
    assert str(excinfo.value) == "there is no job 404"


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
