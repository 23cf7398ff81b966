"""State of the local Viggle emulator: jobs, call statistics and the job lifecycle.

No HTTP here. The lifecycle is a pure function of the time elapsed since submission, read from
an injected clock, so tests move jobs forward by advancing a fake clock instead of sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, TypedDict

CHECKPOINTS: Final = ("ref_done", "dri_done", "bg_done", "render_done")
QUEUED_FRACTION: Final = 0.1
"""Share of the latency a job spends ``queued`` before it starts ``processing``."""
CDN_URL_TTL_S: Final = 3600
"""Nominal lifetime written into the ``exp`` parameter of CDN URLs (not enforced)."""
MODE_FULL_PIPELINE: Final = "full_pipeline"


class JobStatus(StrEnum):
    """The render statuses the emulator produces (a subset of the API's enum)."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a job stands at one instant."""

    status: JobStatus
    progress_pct: int
    checkpoint: str | None


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


def iso_utc(moment: datetime) -> str:
    """Format a tz-aware datetime as the API does: ``2023-11-07T05:31:56Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Job:
    """One accepted on-demand render and the bytes it will serve as its output."""

    job_id: str
    model: str
    submitted_s: float
    created_at: datetime
    cdn_sig: str
    cdn_exp: int
    output: bytes
    ref_image_sha256: str
    driving_video_sha256: str

    def cdn_url(self, url_root: str) -> str:
        """Return the absolute, signed URL of the output video under ``url_root``."""
        return f"{url_root}/cdn/{self.job_id}.mp4?sig={self.cdn_sig}&exp={self.cdn_exp}"


def status_document(
    job: Job, progress: Progress, latency_s: float, url_root: str
) -> dict[str, object]:
    """Return the ``GET /api/render/{job_id}`` body (spec §2.2) with every field present."""
    complete = progress.status is JobStatus.COMPLETE
    url = job.cdn_url(url_root) if complete else None
    completed_at = iso_utc(job.created_at + timedelta(seconds=latency_s)) if complete else None
    return {
        "job_id": job.job_id,
        "status": progress.status.value,
        "mode": MODE_FULL_PIPELINE,
        "checkpoint": progress.checkpoint,
        "progress_pct": progress.progress_pct,
        "cdn_url": url,
        "mask_cdn_url": None,
        "error": None,
        "error_code": None,
        "error_message": None,
        "progress": {
            "completed_chunks": 0,
            "total_chunks": 0,
            "percent": progress.progress_pct,
        },
        "download_url": url,
        "chunks": [],
        "created_at": iso_utc(job.created_at),
        "completed_at": completed_at,
    }


class RenderSubmission(TypedDict):
    """One accepted ``POST /api/render`` as recorded in the stats (names are public)."""

    job_id: str
    ref_image_sha256: str
    driving_video_sha256: str
    character_id: str | None
    scene_id: str | None
    model: str


class EmulatorStats(TypedDict):
    """The ``GET /_sim/stats`` document (names are public: users' scripts read them)."""

    calls: dict[str, int]
    render_submissions: list[RenderSubmission]
    cdn_requests_with_auth: int


class EmulatorState:
    """Thread-safe store of jobs and statistics; every public method takes the lock."""

    def __init__(self, *, latency_s: float, clock: Callable[[], float]) -> None:
        self.latency_s = latency_s
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._calls: Counter[str] = Counter()
        self._submissions: list[RenderSubmission] = []
        self._cdn_requests_with_auth = 0

    def now_s(self) -> float:
        """Return the injected clock's current reading."""
        return self._clock()

    def count_call(self, key: str) -> None:
        """Count one request under ``key`` (method + route pattern)."""
        with self._lock:
            self._calls[key] += 1

    def count_cdn_request_with_auth(self) -> None:
        """Record that a CDN request carried an ``Authorization`` header."""
        with self._lock:
            self._cdn_requests_with_auth += 1

    def submit(self, *, model: str, ref_image: bytes, driving_video: bytes, now: datetime) -> Job:
        """Accept an on-demand render, record it, and return the new job."""
        job = Job(
            job_id=f"job_{secrets.token_hex(8)}",
            model=model,
            submitted_s=self._clock(),
            created_at=now,
            cdn_sig=secrets.token_urlsafe(16),
            cdn_exp=int(now.timestamp() + self.latency_s) + CDN_URL_TTL_S,
            output=driving_video,
            ref_image_sha256=hashlib.sha256(ref_image).hexdigest(),
            driving_video_sha256=hashlib.sha256(driving_video).hexdigest(),
        )
        submission = RenderSubmission(
            job_id=job.job_id,
            ref_image_sha256=job.ref_image_sha256,
            driving_video_sha256=job.driving_video_sha256,
            character_id=None,
            scene_id=None,
            model=model,
        )
        with self._lock:
            self._jobs[job.job_id] = job
            self._submissions.append(submission)
        return job

    def job(self, job_id: str) -> Job | None:
        """Return the job with ``job_id``, or None if it is unknown."""
        with self._lock:
            return self._jobs.get(job_id)

    def progress(self, job: Job) -> Progress:
        """Return where ``job`` stands now, by the injected clock."""
        return job_progress(self._clock() - job.submitted_s, self.latency_s)

    def stats(self) -> EmulatorStats:
        """Return a snapshot copy of the statistics."""
        with self._lock:
            return EmulatorStats(
                calls=dict(self._calls),
                render_submissions=[RenderSubmission(**s) for s in self._submissions],
                cdn_requests_with_auth=self._cdn_requests_with_auth,
            )
