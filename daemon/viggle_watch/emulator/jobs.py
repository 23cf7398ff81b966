"""Emulated render jobs: what was asked, what it costs, and where it stands at an instant.

Pure: a job's status is a function of the time elapsed since it was submitted (read from the
emulator's clock by the caller), of whether it was drawn to fail, and of when it was cancelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

CHECKPOINTS: Final = ("ref_done", "dri_done", "bg_done", "render_done")
QUEUED_FRACTION: Final = 0.1
"""Share of the latency a job spends ``queued`` before it starts ``processing``."""
MODE_FULL_PIPELINE: Final = "full_pipeline"
MODE_PREPROCESSED: Final = "preprocessed"
MODE_FAST: Final = "fast"
FAILED_PCT: Final = 99
FAILURE_LABEL: Final = "render_failed"
FAILURE_MESSAGE: Final = "Rendering failed on the server (emulated failure); credits refunded"


class JobStatus(StrEnum):
    """The render statuses of the API's schema enum."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: Final = frozenset({JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a job stands at one instant; ``ended_s`` is the clock reading it ended at."""

    status: JobStatus
    progress_pct: int
    checkpoint: str | None
    ended_s: float | None = None


def job_progress(elapsed_s: float, latency_s: float) -> Progress:
    """Return the job's progress ``elapsed_s`` seconds after submission, for a given latency.

    Queued for the first 10% of the latency, then processing with ``progress_pct`` rising
    0..99 and the checkpoint stepping through :data:`CHECKPOINTS`, then complete at 100.
    """
    if latency_s <= 0 or elapsed_s >= latency_s:
        return Progress(JobStatus.COMPLETE, 100, CHECKPOINTS[-1])
    fraction = max(0.0, elapsed_s / latency_s)
    if fraction < QUEUED_FRACTION:
        return Progress(JobStatus.QUEUED, 0, None)
    pct = min(99, int((fraction - QUEUED_FRACTION) / (1 - QUEUED_FRACTION) * 100))
    checkpoint = CHECKPOINTS[min(len(CHECKPOINTS) - 1, pct * len(CHECKPOINTS) // 100)]
    return Progress(JobStatus.PROCESSING, pct, checkpoint)


def legacy_status(progress: Progress) -> str:
    """The old overview's name for a status: pending, rendering, merging (spec §2.2)."""
    if progress.status is JobStatus.QUEUED:
        return "pending"
    if progress.status is JobStatus.PROCESSING:
        return "merging" if progress.checkpoint == CHECKPOINTS[-1] else "rendering"
    return progress.status.value


def render_cost(output_s: float, *, fast: bool) -> int:
    """Credits a render reserves: whole seconds of output, rounded up, doubled when fast."""
    # round first: a probed 2.0000001 s is a 2-second video, not a 3-credit one
    return math.ceil(round(output_s, 3)) * (2 if fast else 1)


def iso_utc(moment: datetime) -> str:
    """Format a tz-aware datetime as the API does: ``2023-11-07T05:31:56Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """A validated ``POST /api/render``: its input set, options, output length and inputs."""

    input: str
    """``upload``, ``url``, ``ids`` or ``multi``."""
    model: str
    background_mode: str
    fast: bool
    output_s: float
    ref_image_sha256: str | None = None
    driving_video_sha256: str | None = None
    character_id: str | None = None
    scene_id: str | None = None
    character_mapping: Mapping[str, str] | None = None

    @property
    def mode(self) -> str:
        """The ``mode`` the API reports for this render."""
        if self.fast:
            return MODE_FAST
        return MODE_FULL_PIPELINE if self.input in ("upload", "url") else MODE_PREPROCESSED

    @property
    def cost(self) -> int:
        """Credits reserved at submit."""
        return render_cost(self.output_s, fast=self.fast)


@dataclass(frozen=True, slots=True)
class Job:
    """One accepted render, owned by the API key with fingerprint ``owner``."""

    job_id: str
    owner: str
    spec: RenderSpec
    submitted_s: float
    created_at: datetime
    latency_s: float
    failure_code: str | None = None
    """Set at submit when the job was drawn to fail at the end of its latency."""
    cancelled_s: float | None = None

    def progress(self, now_s: float) -> Progress:
        """Where this job stands at clock reading ``now_s``."""
        if self.cancelled_s is not None and now_s >= self.cancelled_s:
            before = job_progress(self.cancelled_s - self.submitted_s, self.latency_s)
            return Progress(
                JobStatus.CANCELLED, before.progress_pct, before.checkpoint, self.cancelled_s
            )
        current = job_progress(now_s - self.submitted_s, self.latency_s)
        if current.status is not JobStatus.COMPLETE:
            return current
        ended_s = self.submitted_s + self.latency_s
        if self.failure_code is not None:
            return Progress(JobStatus.FAILED, FAILED_PCT, CHECKPOINTS[-1], ended_s)
        return Progress(JobStatus.COMPLETE, 100, CHECKPOINTS[-1], ended_s)

    def charged(self, now_s: float) -> int:
        """Credits this job holds at ``now_s``: its cost, or 0 once failed or cancelled."""
        refunded = self.progress(now_s).status in (JobStatus.FAILED, JobStatus.CANCELLED)
        return 0 if refunded else self.spec.cost


@dataclass(frozen=True, slots=True)
class ResultUrls:
    """Signed result URLs for a complete job (``mask`` only in transparent mode)."""

    video: str
    mask: str | None


def status_document(
    job: Job, progress: Progress, urls: ResultUrls | None, *, legacy: bool
) -> dict[str, object]:
    """Return the ``GET /api/render/{job_id}`` body (spec §2.2) with every field present."""
    video = urls.video if urls else None
    failed = progress.status is JobStatus.FAILED
    completed_at = None
    if progress.ended_s is not None:
        moment = job.created_at + timedelta(seconds=progress.ended_s - job.submitted_s)
        completed_at = iso_utc(moment)
    return {
        "job_id": job.job_id,
        "status": legacy_status(progress) if legacy else progress.status.value,
        "mode": job.spec.mode,
        "checkpoint": progress.checkpoint,
        "progress_pct": progress.progress_pct,
        "cdn_url": video,
        "mask_cdn_url": urls.mask if urls else None,
        "error": FAILURE_LABEL if failed else None,
        "error_code": job.failure_code if failed else None,
        "error_message": FAILURE_MESSAGE if failed else None,
        "progress": {
            "completed_chunks": 0,
            "total_chunks": 0,
            "percent": progress.progress_pct,
        },
        "download_url": video,
        "chunks": [],
        "created_at": iso_utc(job.created_at),
        "completed_at": completed_at,
    }
