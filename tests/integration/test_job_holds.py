"""Issue 19 §1, against the store: a host proves a job is still its own before it writes for
it (``store.holding``), and on a shared store places the job's outputs and ends it under the
job's row lock, which a take-over cannot pass. On both backends where the behaviour is the
same; what needs other hosts, on PostgreSQL only. And a lost job's clean-up removes only this
host's own part files (``render.lost``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.store import OpenAs
from viggle_watch.errors import JobLostError
from viggle_watch.outputs.atomic import download_tag, part_path
from viggle_watch.outputs.sidecar import mask_path
from viggle_watch.render.lost import drop_lost
from viggle_watch.store.holding import Holds
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import InputRef, JobSpec, JobStore
from viggle_watch.store.states import State

T0 = 1_700_000_000.0
LEASE = 30.0
PATH = [State.PREPARING, State.SUBMITTING, State.RENDERING, State.DOWNLOADING]


def downloading(store: JobStore) -> int:
    """A job held by ``store``'s host, in ``downloading``."""
    spec = JobSpec(
        rule="dance",
        character=InputRef("character", "/in/c.png", "c" * 64, 100),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 999),
        model="V4_Preview",
        output_name="c__dance",
    )
    job_id = store.enqueue(spec, dedup_key="k", source_path="/in/c.png", at=T0)
    assert job_id is not None
    store.due(State.QUEUED, T0)
    src = State.QUEUED
    for dst in PATH:
        store.transition(job_id, src, dst, at=T0)
        src = dst
    return job_id


def lost(call: object) -> JobLostError:
    with pytest.raises(JobLostError) as caught:
        assert callable(call)
        call()
    return caught.value


def test_a_job_this_host_holds_may_be_written_for(open_as: OpenAs) -> None:
    da = open_as("a")
    a, holds = JobStore(da, lease_s=LEASE), Holds(da)
    job_id = downloading(a)
    holds.check(job_id, State.DOWNLOADING)
    holds.update(job_id, State.DOWNLOADING, output_path="/out/c__dance.mp4")
    with holds.placing(job_id, State.DOWNLOADING):
        a.transition(job_id, State.DOWNLOADING, State.DONE, at=T0 + 1, mine=True)
    job = a.get(job_id)
    assert job is not None and (job.state, job.output_path) == (State.DONE, "/out/c__dance.mp4")


def test_a_job_that_moved_on_is_lost_on_either_store(open_as: OpenAs) -> None:
    """On one host too: the job's state moved under the host (here: another hand ended it)."""
    da = open_as("a")
    a, holds = JobStore(da, lease_s=LEASE), Holds(da)
    job_id = downloading(a)
    a.transition(job_id, State.DOWNLOADING, State.DONE, at=T0 + 1)
    for call in (
        lambda: holds.check(job_id, State.DOWNLOADING),
        lambda: holds.update(job_id, State.DOWNLOADING, error_message="x"),
        lambda: holds.placing(job_id, State.DOWNLOADING).__enter__(),
    ):
        assert "it is done now" in lost(call).reason
    job = a.get(job_id)
    assert job is not None and job.error_message is None  # the update wrote nothing


def test_a_job_taken_over_is_lost_to_its_old_holder(open_as: OpenAs) -> None:
    da, db = open_as("a"), open_as("b")
    if not da.shared:
        pytest.skip("only a shared (PostgreSQL) store has another host to take a job over")
    a, holds = JobStore(da, lease_s=LEASE), Holds(da)
    job_id = downloading(a)
    HostStore(db).take_over(T0 + LEASE + 1, lease_s=LEASE)  # a fell silent
    errors = [
        lost(lambda: holds.check(job_id, State.DOWNLOADING)),
        lost(lambda: holds.update(job_id, State.DOWNLOADING, output_sha256="f" * 64)),
        lost(lambda: holds.placing(job_id, State.DOWNLOADING).__enter__()),
    ]
    assert {(e.holder, e.reason) for e in errors} == {("b", "host b holds it now")}
    job = a.get(job_id)
    assert job is not None and (job.owner, job.output_sha256) == ("b", None)


def test_while_a_host_places_a_job_no_one_can_take_it_over(open_as: OpenAs) -> None:
    """The placement holds the job's row lock until the job is done: a take-over at that
    moment (the lease ran out: the host was paused just before) skips the job, and finds
    nothing to take once it is done."""
    da, db = open_as("a"), open_as("b")
    if not da.shared:
        pytest.skip("only a shared (PostgreSQL) store has another host to take a job over")
    a, holds, b_hosts = JobStore(da, lease_s=LEASE), Holds(da), HostStore(db)
    job_id = downloading(a)
    late = T0 + LEASE + 1
    with holds.placing(job_id, State.DOWNLOADING):
        during = b_hosts.take_over(late, lease_s=LEASE)
        a.transition(job_id, State.DOWNLOADING, State.DONE, at=late, mine=True)
    after = b_hosts.take_over(late, lease_s=LEASE)
    job = a.get(job_id)
    assert job is not None
    assert (list(during), list(after), job.state, job.owner) == ([], [], State.DONE, "a")


def test_a_lost_job_removes_only_this_hosts_part_files(tmp_path: Path, open_as: OpenAs) -> None:
    da = open_as("a")
    a = JobStore(da, lease_s=LEASE)
    job_id = downloading(a)
    out = tmp_path / "out"
    out.mkdir()
    video = out / "c__dance.mp4"
    a.update(job_id, State.DOWNLOADING, output_path=str(video))
    job = a.get(job_id)
    assert job is not None
    mine = [part_path(p, download_tag(job_id, "a")) for p in (video, mask_path(video))]
    theirs = [part_path(p, download_tag(job_id, "b")) for p in (video, mask_path(video))]
    published = [video, video.with_suffix(".json")]
    for path in (*mine, *theirs, *published):
        path.write_bytes(b"x")
    drop_lost(job, None, "a", JobLostError(job_id, "host b holds it now", holder="b"))
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (*theirs, *published))
