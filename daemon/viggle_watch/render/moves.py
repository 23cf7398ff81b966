"""A job's moves that set its error message (the event's detail says the same) or clear it."""

from __future__ import annotations

from typing import Any

from viggle_watch.render.retry import BUDGET_RECHECK_S
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State


def move_with_reason(
    store: JobStore, job: Job, src: State, dst: State, now: float, reason: str, **fields: Any
) -> Job:
    """``src`` → ``dst`` (compare-and-set) at ``now``, with ``reason`` both the event's detail
    and the job's error message; ``fields`` as for :meth:`JobStore.transition`."""
    return store.transition(job.id, src, dst, at=now, detail=reason, error_message=reason, **fields)


def move_clearing_error(
    store: JobStore, job: Job, src: State, dst: State, now: float, detail: str, **fields: Any
) -> Job:
    """``src`` → ``dst`` (compare-and-set) at ``now``: the job is well again, so an earlier
    error message is cleared; ``fields`` as for :meth:`JobStore.transition`."""
    return store.transition(job.id, src, dst, at=now, detail=detail, error_message=None, **fields)


def wait_for_budget(
    store: JobStore, job: Job, src: State, now: float, reason: str, **fields: Any
) -> Job:
    """To ``waiting_budget`` for ``reason``, to be checked again in ``BUDGET_RECHECK_S``."""
    at = now + BUDGET_RECHECK_S
    dst = State.WAITING_BUDGET
    return move_with_reason(store, job, src, dst, now, reason, next_attempt_at=at, **fields)
