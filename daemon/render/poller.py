"""The poll tick: ask Viggle about every rendering job that is due; record progress."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from daemon.errors import ApiError, NotFoundError
from daemon.render.retry import poll_delay_s
from daemon.store.jobs import Job, JobStore
from daemon.store.states import State
from daemon.viggle.client import ViggleClient
from daemon.viggle.schemas import RenderStatus

log = structlog.get_logger()


class Poller:
    def __init__(
        self,
        store: JobStore,
        client: ViggleClient,
        *,
        poll_interval_s: float,
        on_ended: Callable[[Job], None],
    ) -> None:
        self._store = store
        self._on_ended = on_ended
        self._client = client
        self._poll_interval_s = poll_interval_s
        self._failures: dict[int, int] = {}

    def tick(self, now: float) -> int:
        """Poll every due rendering job once; return how many were polled."""
        jobs = self._store.due(State.RENDERING, now)
        for job in jobs:
            self._poll(job, now)
        return len(jobs)

    def _poll(self, job: Job, now: float) -> None:
        assert job.viggle_job_id is not None
        bound = log.bind(job_id=job.id, rule=job.rule, viggle_job_id=job.viggle_job_id)
        try:
            status = self._client.get_render(job.viggle_job_id)
        except NotFoundError:
            self._store.transition(
                job.id,
                State.RENDERING,
                State.FAILED,
                at=now,
                error_code="viggle_job_unknown",
                error_message="Viggle no longer knows this render job",
            )
            bound.error("job_failed", reason="viggle_job_unknown")
            self._on_ended(job)
            return
        except ApiError as exc:  # transient: the job keeps rendering at Viggle meanwhile
            failures = self._failures.get(job.id, 0) + 1
            self._failures[job.id] = failures
            delay = poll_delay_s(self._poll_interval_s, failures)
            self._store.update(job.id, State.RENDERING, next_attempt_at=now + delay)
            bound.warning("poll_failed", reason=str(exc), retry_in_s=round(delay, 1))
            return
        self._failures.pop(job.id, None)
        self._apply(job, status, now)

    def _apply(self, job: Job, status: RenderStatus, now: float) -> None:
        bound = log.bind(job_id=job.id, rule=job.rule, viggle_job_id=job.viggle_job_id)
        if status.status == "complete" and status.result_url:
            self._store.transition(
                job.id,
                State.RENDERING,
                State.DOWNLOADING,
                at=now,
                progress_pct=100.0,
                checkpoint=status.checkpoint,
                result_url=status.result_url,
                next_attempt_at=now,
            )
            bound.info("render_completed")
        elif status.status in ("failed", "complete"):
            message = status.error_message or status.error or "Viggle reported the render failed"
            self._store.transition(
                job.id,
                State.RENDERING,
                State.FAILED,
                at=now,
                detail=message,
                error_code=status.error_code or "render_failed",
                error_message=message,
            )
            bound.error("job_failed", reason=message, code=status.error_code)
            self._on_ended(job)
        elif status.status == "cancelled":
            self._store.transition(
                job.id, State.RENDERING, State.CANCELLED, at=now, detail="cancelled at Viggle"
            )
            bound.warning("job_cancelled")
            self._on_ended(job)
        else:
            self._store.update(
                job.id,
                State.RENDERING,
                progress_pct=status.progress_pct,
                checkpoint=status.checkpoint,
                next_attempt_at=now + self._poll_interval_s,
            )
            bound.debug("render_progressed", status=status.status, progress_pct=status.progress_pct)
