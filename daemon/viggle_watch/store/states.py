"""The job state machine: every state and every allowed transition, in one table."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class State(StrEnum):
    QUEUED = "queued"
    PREPARING = "preparing"
    SUBMITTING = "submitting"
    RENDERING = "rendering"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"
    WAITING_BUDGET = "waiting_budget"
    REVIEW = "review"  # the render failed the acceptance gate: a person looks (issue 16)


S = State
ALLOWED: Final[dict[State, frozenset[State]]] = {
    S.QUEUED: frozenset({S.PREPARING, S.FAILED, S.CANCELLED, S.WAITING_BUDGET}),
    # uncertain from preparing: a paid character creation lost its answer
    S.PREPARING: frozenset(
        {S.SUBMITTING, S.QUEUED, S.FAILED, S.CANCELLED, S.WAITING_BUDGET, S.UNCERTAIN}
    ),
    # back to queued only when the request was provably not acted on (docs/reliability.md §2)
    S.SUBMITTING: frozenset({S.RENDERING, S.QUEUED, S.FAILED, S.UNCERTAIN, S.WAITING_BUDGET}),
    # uncertain from rendering: no answer about a paid render could be read for render_timeout
    S.RENDERING: frozenset({S.DOWNLOADING, S.FAILED, S.CANCELLED, S.UNCERTAIN}),
    # review: the downloaded render failed the acceptance gate (docs/deliverables.md)
    S.DOWNLOADING: frozenset({S.DONE, S.FAILED, S.REVIEW}),
    S.WAITING_BUDGET: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    # uncertain has no automatic way out: a person resolves, force-retries or cancels
    S.UNCERTAIN: frozenset({S.RENDERING, S.QUEUED, S.CANCELLED}),
    # review has no automatic way out either (a re-render costs money): `jobs accept` publishes
    # it (downloading, with the gate passed by a person), `jobs retry` renders again, or cancel
    S.REVIEW: frozenset({S.DOWNLOADING, S.QUEUED, S.CANCELLED}),
    S.DONE: frozenset({S.QUEUED}),
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset({S.QUEUED}),
}
TERMINAL: Final = frozenset({S.DONE, S.FAILED, S.CANCELLED})
# at Viggle: what max_concurrent_renders counts
IN_FLIGHT: Final = frozenset({S.SUBMITTING, S.RENDERING})
# waiting for a person's decision; nothing moves them on its own
NEEDS_PERSON: Final = frozenset({S.UNCERTAIN, S.REVIEW})


def allowed(src: State, dst: State) -> bool:
    """Whether the state machine permits ``src → dst``."""
    return dst in ALLOWED[src]
