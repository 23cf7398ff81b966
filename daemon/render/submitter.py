"""The dispatch tick: queued jobs → one paid POST each, with the intent committed first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog

from daemon.errors import (
    ApiError,
    AuthError,
    CreditsError,
    NotSentError,
    RejectedError,
    ThrottledError,
)
from daemon.render.retry import BUDGET_RECHECK_S, submit_delay_s
from daemon.store.jobs import Job, JobStore
from daemon.store.states import State
from daemon.viggle.client import ViggleClient

log = structlog.get_logger()


class Submitter:
    """Submits while fewer than ``max_in_flight`` jobs are at Viggle; classifies every outcome."""

    def __init__(
        self,
        store: JobStore,
        client: ViggleClient,
        *,
        max_in_flight: int,
        poll_interval_s: float,
        on_ended: Callable[[Job], None],
    ) -> None:
        self._store = store
        self._on_ended = on_ended
        self._client = client
        self._max_in_flight = max_in_flight
        self._poll_interval_s = poll_interval_s
        self.paused_reason: str | None = None
        self.draining = False

    def tick(self, now: float) -> int:
        """Submit what fits; return how many POSTs were made."""
        for job in self._store.due(State.WAITING_BUDGET, now):
            self._store.transition(
                job.id,
                State.WAITING_BUDGET,
                State.QUEUED,
                at=now,
                detail="checking the balance again",
            )
        if self.paused_reason or self.draining:
            return 0
        slots = self._max_in_flight - self._store.in_flight()
        sent = 0
        for job in self._store.due(State.QUEUED, now, limit=max(0, slots)):
            if self.draining or self.paused_reason:
                break
            self._submit(job, now)
            sent += 1
        return sent

    def _submit(self, job: Job, now: float) -> None:
        bound = log.bind(job_id=job.id, rule=job.rule)
        self._store.transition(job.id, State.QUEUED, State.PREPARING, at=now)
        missing = [
            r.path for r in (job.spec.character, job.spec.scene) if not Path(r.path).is_file()
        ]
        if missing:
            self._store.transition(
                job.id,
                State.PREPARING,
                State.FAILED,
                at=now,
                detail="input file missing",
                error_code="input_missing",
                error_message=f"input file is gone: {missing[0]}",
            )
            bound.error("job_failed", reason="input_missing", path=missing[0])
            self._on_ended(job)
            return
        # the intent is committed before the POST: a crash from here on becomes `uncertain`
        self._store.transition(
            job.id, State.PREPARING, State.SUBMITTING, at=now, attempts=job.attempts + 1
        )
        try:
            created = self._client.create_render(
                Path(job.spec.character.path), Path(job.spec.scene.path), model=job.spec.model
            )
        except ApiError as exc:
            self._classify_failure(job, exc, now)
            return
        self._store.transition(
            job.id,
            State.SUBMITTING,
            State.RENDERING,
            at=now,
            viggle_job_id=created.job_id,
            detail=f"viggle job {created.job_id}",
            next_attempt_at=now + self._poll_interval_s,
        )
        bound.info("render_submitted", viggle_job_id=created.job_id, model=job.spec.model)

    def _classify_failure(self, job: Job, exc: ApiError, now: float) -> None:
        """RELIABILITY §2.4: only a provably unsent request goes back to the queue."""
        bound = log.bind(job_id=job.id, rule=job.rule)
        attempt = job.attempts + 1
        if isinstance(exc, NotSentError | ThrottledError):
            retry_after = exc.retry_after_s if isinstance(exc, ThrottledError) else None
            delay = submit_delay_s(attempt, retry_after)
            self._store.transition(
                job.id,
                State.SUBMITTING,
                State.QUEUED,
                at=now,
                detail=f"not sent: {exc}",
                next_attempt_at=now + delay,
            )
            bound.warning("retry_scheduled", reason=str(exc), delay_s=round(delay, 1))
        elif isinstance(exc, CreditsError):
            self._store.transition(
                job.id,
                State.SUBMITTING,
                State.WAITING_BUDGET,
                at=now,
                detail=str(exc),
                next_attempt_at=now + BUDGET_RECHECK_S,
            )
            bound.warning("job_waiting_budget", reason=str(exc))
        elif isinstance(exc, AuthError | RejectedError):
            self._store.transition(
                job.id,
                State.SUBMITTING,
                State.FAILED,
                at=now,
                detail=str(exc),
                error_code=exc.code or "rejected",
                error_message=exc.message,
            )
            bound.error("job_failed", reason=str(exc))
            self._on_ended(job)
            if isinstance(exc, AuthError):
                self.paused_reason = f"the API key was refused: {exc}"
                log.error("submissions_paused", reason=self.paused_reason)
        else:  # outcome unknown, or anything we cannot prove was not acted on
            self._store.transition(
                job.id,
                State.SUBMITTING,
                State.UNCERTAIN,
                at=now,
                detail=f"outcome unknown: {exc}",
                error_message=str(exc),
            )
            bound.error(
                "job_uncertain",
                reason=str(exc),
                hint="check the Viggle dashboard, then `viggle-watch jobs resolve`",
            )
