"""``jobs retry`` finds the job's own input where it is now: in place, or filed away in
``processed/`` or ``failed/`` — by its bytes, never a later file under the same name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.actions import (
    T0,
    TO_DONE,
    S,
    World,
    drop_input,
    get,
    make_job,
    make_spec,
    walk,
)
from viggle_watch.outputs.failure import FAILED
from viggle_watch.outputs.filing import move_input
from viggle_watch.outputs.finished import file_away
from viggle_watch.render.actions import cancel, retry
from viggle_watch.store.jobs import InputRef


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


def test_a_cancelled_input_retried_and_rendered_leaves_failed_with_its_error_file(
    world: World,
) -> None:
    """Cancelled while it waited for the budget: filed in failed/, the reason says a person
    cancelled it (not the budget's words). Retried and done: it leaves failed/ for
    processed/, and its error file — untrue now — goes (it stayed, still "refused")."""
    ref = drop_input(world.inbox, "hero.png", b"hero bytes")
    job_id = make_job(world, S.QUEUED, spec=make_spec(ref))
    world.jobs.transition(
        job_id, S.QUEUED, S.WAITING_BUDGET, at=T0 + 1, error_message="daily cap: 28 of 28 used"
    )
    cancel(world.jobs, None, job_id, now=T0 + 2)
    file_away(world.jobs, [Path(ref.path)], None, T0 + 3)
    failed = world.inbox / "failed" / "hero.png"
    error = json.loads(failed.with_name("hero.png.error.json").read_text())
    retry(world.jobs, world.assets, job_id, force=False, now=T0 + 100)
    walk(world, job_id, *TO_DONE, at=T0 + 110)
    file_away(world.jobs, [Path(s) for s in world.jobs.sources(job_id)], None, T0 + 200)
    assert (error["code"], error["reason"]) == ("cancelled", "cancelled by a person")
    assert (failed.exists(), failed.with_name("hero.png.error.json").exists()) == (False, False)
    assert (world.inbox / "processed" / "hero.png").read_bytes() == b"hero bytes"
