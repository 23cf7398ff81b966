"""The poll tick: ask Viggle about every rendering job that is due; record progress.

Every write for a job (its progress, a note, the move to ``downloading`` or an end) holds only
while the job is still this host's (issue 19 §1, ``store.holding``): a host woken after its
lease ran out, whose job another host took over meanwhile, logs ``job_lost`` and leaves it.
"""

from __future__ import annotations

from typing import Any

import structlog

from viggle_watch.errors import (
    ApiError,
    AuthError,
    JobLostError,
    NotFoundError,
    TransientError,
    TransitionError,
)
from viggle_watch.notify.metrics import timed
from viggle_watch.render.breaker import CircuitBreaker
from viggle_watch.render.lost import drop_lost
from viggle_watch.render.retry import poll_cadence_s, poll_delay_s, render_age_s
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.holding import Holds
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State
from viggle_watch.viggle.charged import Charged, charged
from viggle_watch.viggle.schemas import KNOWN_STATUSES, UNKNOWN_STATUS_NOTE, RenderStatus

log = structlog.get_logger()


class Poller:
    """Polls every ``poll_interval_s`` per job (slower for long renders); fails overdue ones."""

    def __init__(
        self,
        wiring: Wiring,
        *,
        poll_interval_s: float,
        render_timeout_s: float,
        breaker: CircuitBreaker,
        holds: Holds,
    ) -> None:
        self._store, self._client, self._on_ended = wiring.store, wiring.client, wiring.on_ended
        self._holds = holds
        self._metrics, self.gate = wiring.metrics, wiring.gate
        self._poll_interval_s = poll_interval_s
        self._render_timeout_s = render_timeout_s
        self._breaker = breaker
        self._failures: dict[int, int] = {}
        self._unknown: set[str] = set()  # status values said in the log already
        self._noted: dict[int, str] = {}  # job → the unknown status its history says

    def tick(self, now: float) -> int:
        """Poll every due rendering job once; return how many were polled. A render is timed
        out only after a poll that says it is still going (a render that finished while the
        service was down is fetched, never thrown away), and its age counts only the time the
        service watched it (docs/reliability.md §2.6)."""
        self._store.rebase_polls(now)
        jobs = self._store.due(State.RENDERING, now)
        for job in jobs:
            try:
                self._poll(job, now)
            except JobLostError as exc:  # taken over meanwhile: not ours to write for
                drop_lost(job, None, self._store.host, exc)
                self._failures.pop(job.id, None)
                self._noted.pop(job.id, None)
        return len(jobs)

    def _move(self, job: Job, dst: State, now: float, **fields: Any) -> None:
        """``rendering`` → ``dst``, only while the job is this host's (else ``JobLostError``)."""
        try:
            self._store.transition(job.id, State.RENDERING, dst, at=now, mine=True, **fields)
        except JobLostError:
            raise
        except TransitionError as exc:
            raise self._holds.lost(job.id, State.RENDERING) from exc

    def _time_out(self, job: Job, now: float, age_s: float) -> None:
        assert job.viggle_job_id is not None
        self._holds.check(job.id, State.RENDERING)  # never cancel another host's render
        try:
            self._client.cancel_render(job.viggle_job_id)
            cancelled = "cancelled at Viggle"
        except ApiError as exc:
            self._metrics.api_error(exc)
            cancelled = f"could not cancel it at Viggle: {exc}"
        reason = (
            f"still rendering after {age_s:.0f} s (render_timeout {self._render_timeout_s:g} s); "
            f"{cancelled}"
        )
        self._move(
            job,
            State.FAILED,
            now,
            detail=reason,
            error_code="render_timeout",
            error_message=reason,
            refund=True,
        )
        log.error("job_failed", job_id=job.id, rule=job.rule, reason=reason)
        self._on_ended(job)

    def _poll(self, job: Job, now: float) -> None:
        assert job.viggle_job_id is not None
        self._holds.check(job.id, State.RENDERING)  # the tick's list may be old
        try:
            with timed(self._metrics.observe_poll):
                status = self._client.get_render(job.viggle_job_id)
        except NotFoundError as exc:
            self._metrics.api_error(exc)
            self._end(
                job,
                now,
                State.FAILED,
                "viggle_job_unknown",
                "Viggle no longer knows this render job",
            )
            return
        except ApiError as exc:  # transient: the job keeps rendering at Viggle meanwhile
            self._metrics.api_error(exc)
            if isinstance(exc, AuthError):  # the key stopped working: hold new paid work
                self.gate.key_refused(str(exc), now)
            self._breaker.record(ok=not isinstance(exc, TransientError), now=now)
            self._poll_failed(job, now, str(exc))
            return
        self._breaker.record(ok=True, now=now)
        self._failures.pop(job.id, None)
        self._apply(job, status, now)

    def _poll_failed(self, job: Job, now: float, reason: str) -> None:
        """No usable answer about the render this time: ask again later (backing off); after
        ``render_timeout`` it is ``uncertain`` — paid, maybe finished, a person looks."""
        failures = self._failures.get(job.id, 0) + 1
        self._failures[job.id] = failures
        age = _age(job, now)
        if age > self._render_timeout_s:
            self._unanswered(job, now, age, reason)
            return
        delay = poll_delay_s(self._poll_interval_s, failures)
        self._polled(job, now, age, delay)  # never timed out unasked
        log.warning(
            "poll_failed", job_id=job.id, rule=job.rule, reason=reason, retry_in_s=round(delay, 1)
        )

    def _unanswered(self, job: Job, now: float, age_s: float, reason: str) -> None:
        """No readable answer about a paid render for ``render_timeout``: uncertain (it may
        have finished and been charged), with the last reason — never failed, never resent."""
        detail = f"no readable answer about this render for {age_s:.0f} s; the last: {reason}"
        self._move(job, State.UNCERTAIN, now, detail=detail)
        self._failures.pop(job.id, None)
        log.error(
            "job_uncertain",
            job_id=job.id,
            rule=job.rule,
            reason=detail,
            hint=f"check the Viggle dashboard for {job.viggle_job_id}, then `jobs resolve`",
        )

    def _polled(self, job: Job, now: float, age_s: float, delay_s: float, **fields: object) -> None:
        self._holds.update(
            job.id,
            State.RENDERING,
            render_age_s=age_s,
            polled_at=now,
            next_attempt_at=now + delay_s,
            **fields,
        )

    def _charged(self, job: Job, status: RenderStatus) -> Charged:
        """What the finished render cost: Viggle's figure, else the balance difference when
        it was the only paid request in flight (its reading survived), else not known."""
        before, after = job.balance_before if status.credits_used is None else None, None
        if before is not None:
            try:
                after = self._client.credits(retry=False).balance
            except ApiError as exc:
                self._metrics.api_error(exc)
        return charged(status.credits_used, before, after)

    def _unknown_status(self, job: Job, status: str, now: float) -> None:
        """A status we do not know means "still working": said once per value in the log,
        and once per job in its history (`jobs show`)."""
        if status in KNOWN_STATUSES:
            return
        if status not in self._unknown:
            self._unknown.add(status)
            log.warning("render_status_unknown", status=status, meaning="taken as still working")
        if self._noted.get(job.id) != status:
            self._noted[job.id] = status
            said = f"{UNKNOWN_STATUS_NOTE} {status!r}: taken as still working"
            self._holds.note(job.id, State.RENDERING, said, at=now)

    def _end(self, job: Job, now: float, state: State, code: str, message: str) -> None:
        """Failed or cancelled at Viggle: its credits are refunded (docs/reliability.md §2.2)."""
        self._move(
            job,
            state,
            now,
            detail=message,
            error_code=code,
            error_message=message,
            refund=True,
        )
        log.error(
            "job_failed" if state == State.FAILED else "job_cancelled",
            job_id=job.id,
            rule=job.rule,
            reason=message,
            code=code,
        )
        self._on_ended(job)

    def _apply(self, job: Job, status: RenderStatus, now: float) -> None:
        if status.status == "complete" and status.result_url:
            paid = self._charged(job, status)
            self._move(
                job,
                State.DOWNLOADING,
                now,
                detail=paid.detail,
                charged_credits=paid.credits,
                charged_how=paid.how,
                progress_pct=100.0,
                checkpoint=status.checkpoint,
                result_url=status.result_url,
                mask_url=status.mask_cdn_url,
                next_attempt_at=now,
            )
            log.info(
                "render_completed", job_id=job.id, rule=job.rule, viggle_job_id=job.viggle_job_id
            )
        elif status.status == "complete":  # finished, paid, and nowhere to fetch it from yet
            reason = "Viggle says the render is complete but gives no result URL (cdn_url)"
            self._poll_failed(job, now, reason)
        elif status.status == "failed":
            message = status.error_message or status.error or "Viggle reported the render failed"
            self._end(job, now, State.FAILED, status.error_code or "render_failed", message)
        elif status.status == "cancelled":
            self._end(job, now, State.CANCELLED, "cancelled", "cancelled at Viggle")
        else:
            self._unknown_status(job, status.status, now)
            age = _age(job, now)
            if age > self._render_timeout_s:
                self._time_out(job, now, age)
                return
            cadence = poll_cadence_s(self._poll_interval_s, age)
            progress = {"progress_pct": status.progress_pct, "checkpoint": status.checkpoint}
            self._polled(job, now, age, cadence, **progress)
            log.debug(
                "render_progressed",
                job_id=job.id,
                status=status.status,
                progress_pct=status.progress_pct,
            )


def _age(job: Job, now: float) -> float:
    """The render's age for ``render_timeout``: time watched by the service (``render_age_s``)."""
    last = job.polled_at or job.render_started_at or now
    return render_age_s(job.render_age_s, last, job.next_attempt_at - last, now)
