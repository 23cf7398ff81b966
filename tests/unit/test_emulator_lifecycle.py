"""The emulator's pure lifecycles and its derived credit ledger, stepped with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from viggle_watch.emulator.assets import character_status, scene_status
from viggle_watch.emulator.jobs import (
    Job,
    JobStatus,
    Progress,
    RenderSpec,
    job_progress,
    legacy_status,
    render_cost,
    status_document,
)
from viggle_watch.emulator.state import CancelRefusal, EmulatorState

SPEC = RenderSpec(
    input="upload", model="V4_Preview", background_mode="original", fast=False, output_s=2.0
)
START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_job(**overrides: object) -> Job:
    """A job submitted at 0 s with a 10 s latency, with ``overrides``."""
    fields: dict[str, object] = {
        "job_id": "job_1",
        "owner": "abc",
        "spec": SPEC,
        "submitted_s": 0.0,
        "created_at": START,
        "latency_s": 10.0,
    }
    fields.update(overrides)
    return Job(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("elapsed_s", "expected"),
    [
        (0.0, Progress(JobStatus.QUEUED, 0, None)),
        (0.99, Progress(JobStatus.QUEUED, 0, None)),
        (1.0, Progress(JobStatus.PROCESSING, 0, "ref_done")),
        (5.5, Progress(JobStatus.PROCESSING, 50, "bg_done")),
        (9.99, Progress(JobStatus.PROCESSING, 99, "render_done")),
        (10.0, Progress(JobStatus.COMPLETE, 100, "render_done")),
    ],
)
def test_job_progress_follows_the_latency(elapsed_s: float, expected: Progress) -> None:
    """Queued for 10% of the latency, processing with rising progress, then complete."""
    assert job_progress(elapsed_s, 10.0) == expected


@pytest.mark.parametrize(
    ("progress", "name"),
    [
        (Progress(JobStatus.QUEUED, 0, None), "pending"),
        (Progress(JobStatus.PROCESSING, 10, "ref_done"), "rendering"),
        (Progress(JobStatus.PROCESSING, 80, "render_done"), "merging"),
        (Progress(JobStatus.COMPLETE, 100, "render_done"), "complete"),
        (Progress(JobStatus.CANCELLED, 5, None), "cancelled"),
    ],
)
def test_legacy_status_names(progress: Progress, name: str) -> None:
    """The old API's names: pending, rendering, merging; terminal names unchanged."""
    assert legacy_status(progress) == name


@pytest.mark.parametrize(
    ("seconds", "fast", "cost"),
    [(2.0, False, 2), (2.0000001, False, 2), (2.01, False, 3), (0.5, False, 1), (2.0, True, 4)],
)
def test_render_cost_rounds_seconds_up(seconds: float, fast: bool, cost: int) -> None:
    """ceil(output seconds), doubled when fast; probe noise below a millisecond is ignored."""
    assert render_cost(seconds, fast=fast) == cost


def test_a_job_drawn_to_fail_fails_at_its_end() -> None:
    """A failing job runs normally, then ends failed (holding no credits) at its latency."""
    job = make_job(failure_code="CS-UORC01-009")
    assert (job.progress(5.0).status, job.charged(5.0)) == (JobStatus.PROCESSING, 2)
    failed = job.progress(10.0)
    assert (failed.status, failed.ended_s, job.charged(10.0)) == (JobStatus.FAILED, 10.0, 0)
    document = status_document(job, failed, None, legacy=False)
    assert (document["error_code"], document["completed_at"]) == (
        "CS-UORC01-009",
        "2026-01-01T00:00:10Z",
    )


def test_a_cancelled_job_keeps_its_progress_at_cancel_time() -> None:
    """Cancelled at 5.5 s: status cancelled with the progress it had, from then on."""
    job = make_job(cancelled_s=5.5)
    assert job.progress(5.0).status is JobStatus.PROCESSING
    assert job.progress(20.0) == Progress(JobStatus.CANCELLED, 50, "bg_done", 5.5)
    assert job.charged(20.0) == 0


@pytest.mark.parametrize(
    ("elapsed_s", "character", "scene"),
    [(0.0, "pending", "pending"), (2.5, "processing", "pending"), (4.0, "ready", "ready")],
)
def test_assets_become_ready_after_the_delay(elapsed_s: float, character: str, scene: str) -> None:
    """Characters pass through processing; scenes go straight from pending to ready."""
    assert (character_status(elapsed_s, 4.0), scene_status(elapsed_s, 4.0)) == (character, scene)


def test_balance_is_derived_from_jobs_and_characters() -> None:
    """Reserve at submit, refund on failure and cancel, 1 per character, None when short."""
    clock = Clock()
    state = EmulatorState(latency_s=10.0, clock=clock, balance=6.0)
    kept = state.submit("k1", SPEC, latency_s=10.0, failure_code=None)
    failing = state.submit("k1", SPEC, latency_s=10.0, failure_code="CS-UORC01-009")
    assert kept is not None and failing is not None
    assert state.add_character("k1", "c", "sha") is not None
    assert state.credits("k1").balance == 1.0
    assert state.submit("k1", SPEC, latency_s=10.0, failure_code=None) is None
    clock.now = 10.0
    assert state.credits("k1").balance == 3.0
    assert state.cancel("k1", kept.job_id) is CancelRefusal.TERMINAL
    running = state.submit("k1", SPEC, latency_s=10.0, failure_code=None)
    assert running is not None and state.cancel("k2", running.job_id) is CancelRefusal.NOT_FOUND
    assert isinstance(state.cancel("k1", running.job_id), Job)
    assert state.credits("k1").balance == 3.0
    assert state.credits("k2").balance == 6.0


def test_stats_balance_is_single_key_or_none() -> None:
    """``balance`` is the one key's balance (the start before any); None once two keys appear."""
    state = EmulatorState(latency_s=1.0, clock=Clock(), balance=5.0)
    assert (state.stats()["balance"], state.stats()["balances"]) == (5.0, {})
    state.touch("k1")
    state.submit("k1", SPEC, latency_s=1.0, failure_code=None)
    assert (state.stats()["balance"], state.stats()["credits_spent"]) == (3.0, 2.0)
    state.touch("k2")
    assert (state.stats()["balance"], state.stats()["balances"]) == (None, {"k1": 3.0, "k2": 5.0})
