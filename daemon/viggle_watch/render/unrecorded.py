"""Pure: the answer to a paid request as a write the store must take (docs/reliability.md §2.3).

After a paid POST the answer (a Viggle job id, or a refusal) is one compare-and-set transition
from ``submitting``. When the store cannot take it (a PostgreSQL blip, a SQLite store locked
past its timeout) the answer is kept (``render.recorder``) and written again later. The write
may have been committed even so, its acknowledgement lost with the connection: every later try
first looks at the job as it now stands and at its history (``decide``), so an answer is never
written twice, and never onto a newer attempt of the same job.

``overdue`` is the last guard: a job of this host's left in ``submitting`` with no request on
the wire and no answer kept for it is made ``uncertain`` after ``STUCK_AFTER_S``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from viggle_watch.render.outcomes import Next, Outcome
from viggle_watch.render.retry import BUDGET_RECHECK_S
from viggle_watch.store.records import Event, Job
from viggle_watch.store.states import State

STUCK_AFTER_S: Final = 180.0  # idle in `submitting` this long (no request, no answer): uncertain
SWEEP_EVERY_S: Final = 15.0  # how often this host looks for such jobs
NOT_SENT_RETRY_S: Final = 5.0  # an intent whose write failed: the job is tried again after this
SAME_TIME_S: Final = 1e-6  # an event's time read back from the store (a float) is the same
_FIELDS: Final = frozenset(
    {"viggle_job_id", "render_started_at", "next_attempt_at", "error_message", "error_code"}
)


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """One answer to write: the job, the attempt it answers, the transition and its fields."""

    job_id: int
    attempt: int  # the job's ``attempts`` once the intent of the request answered was written
    dst: State
    detail: str
    at: float  # the transition's time, and its event's: how a write already made is known
    fields: Mapping[str, Any] = field(default_factory=dict)  # JSON values only
    refund: bool = False
    sent: bool = True  # False: the request never left (the write of its intent failed)
    credits: float = 0.0  # the render's committed credits (said in the log, counted)

    @property
    def viggle_job_id(self) -> str | None:
        value = self.fields.get("viggle_job_id")
        return str(value) if value else None

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "attempt": self.attempt,
            "dst": str(self.dst),
            "detail": self.detail,
            "at": self.at,
            "fields": dict(self.fields),
            "refund": self.refund,
            "sent": self.sent,
            "credits": self.credits,
        }

    @classmethod
    def of_json(cls, doc: Any) -> Unrecorded:
        """The answer a journal line holds; ``ValueError`` saying what is wrong with it."""
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        try:
            fields = doc.get("fields", {})
            if not isinstance(fields, dict) or set(fields) - _FIELDS:
                raise ValueError(f"fields must be some of {sorted(_FIELDS)}")
            answer = cls(
                job_id=_int(doc["job_id"]),
                attempt=_int(doc["attempt"]),
                dst=State(doc["dst"]),
                detail=str(doc["detail"]),
                at=_number(doc["at"]),
                fields=fields,
                refund=doc.get("refund") is True,
                sent=doc.get("sent", True) is not False,
                credits=_number(doc.get("credits", 0.0)),
            )
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]} is missing") from None
        if answer.dst not in (State.RENDERING, *_REFUSED):
            raise ValueError(f"{answer.dst} is not where an answer leads")
        return answer


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


_REFUSED: Final = (State.QUEUED, State.WAITING_BUDGET, State.FAILED, State.UNCERTAIN)


def accepted(job: Job, viggle_job_id: str, now: float, poll_s: float, credits: float) -> Unrecorded:
    """A 2xx with a job id: ``job`` (as its intent left it) is rendering at Viggle."""
    fields = {"viggle_job_id": viggle_job_id, "render_started_at": now}
    fields["next_attempt_at"] = now + poll_s
    detail = f"viggle job {viggle_job_id}"
    return Unrecorded(job.id, job.attempts, State.RENDERING, detail, now, fields, credits=credits)


def refused(job: Job, outcome: Outcome, error: str, now: float) -> Unrecorded:
    """Any other answer, as ``render.outcomes.classify`` placed it (docs/reliability.md §2.4)."""
    at, why, n = now, outcome.reason, job.attempts
    if outcome.next in (Next.RETRY, Next.RECREATE):
        fields: dict[str, Any] = {"next_attempt_at": now + outcome.delay_s}
        return Unrecorded(job.id, n, State.QUEUED, f"not sent: {why}", at, fields, refund=True)
    if outcome.next is Next.WAIT_BUDGET:
        fields = {"error_message": why, "next_attempt_at": now + BUDGET_RECHECK_S}
        return Unrecorded(job.id, n, State.WAITING_BUDGET, why, at, fields, refund=True)
    if outcome.next is Next.FAIL:
        fields = {"error_message": why, "error_code": outcome.code}
        return Unrecorded(job.id, n, State.FAILED, why, at, fields, refund=True)
    return Unrecorded(job.id, n, State.UNCERTAIN, why, at, {"error_message": error})


def not_sent(job: Job, now: float, reason: str) -> Unrecorded:
    """The write of ``job``'s intent failed (it may have been committed all the same): nothing
    was sent; if the intent is there, the job goes back to the queue with its credits."""
    fields = {"next_attempt_at": now + NOT_SENT_RETRY_S}
    detail, n = f"not sent: {reason}", job.attempts + 1
    return Unrecorded(job.id, n, State.QUEUED, detail, now, fields, refund=True, sent=False)


def late_detail(answer: Unrecorded) -> str:
    """The event's detail when the answer moves an ``uncertain`` job (taken over meanwhile)."""
    return f"viggle job {answer.viggle_job_id}: its answer arrived after the job was taken over"


class Verdict(StrEnum):
    WRITE = "write"  # the job still waits for it: make the transition, from ``src``
    WRITTEN = "written"  # the store has it already (a write whose acknowledgement was lost)
    NOTE = "note"  # the job went on without it (taken over, a person acted): say so in its history
    DROP = "drop"  # nothing to write: the job is gone, or the request never left


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    src: State | None = None
    detail: str = ""


def decide(answer: Unrecorded, job: Job | None, events: Sequence[Event]) -> Decision:
    """What to do with a kept ``answer``, given its job as it now stands and its history."""
    if job is None:
        return Decision(Verdict.DROP, detail=f"job {answer.job_id} is not in the store")
    if any(_is_ours(answer, event) for event in events):
        return Decision(Verdict.WRITTEN)
    if job.attempts == answer.attempt:
        if job.state is State.SUBMITTING:
            return Decision(Verdict.WRITE, State.SUBMITTING, answer.detail)
        # a render's id is the proof a person would look for: it moves an uncertain job on
        if job.state is State.UNCERTAIN and answer.dst is State.RENDERING:
            return Decision(Verdict.WRITE, State.UNCERTAIN, late_detail(answer))
    if not answer.sent:
        return Decision(Verdict.DROP, detail="its intent was never written")
    return Decision(
        Verdict.NOTE, detail=f"answer to attempt {answer.attempt}, not recorded: {answer.detail}"
    )


def _is_ours(answer: Unrecorded, event: Event) -> bool:
    return (
        event.to_state is answer.dst
        and event.from_state in (State.SUBMITTING, State.UNCERTAIN)
        and abs(event.at - answer.at) < SAME_TIME_S
        and event.detail in (answer.detail, late_detail(answer))
    )


def overdue(
    submitting: Iterable[int],
    busy: Collection[int],
    idle_since: Mapping[int, float],
    now: float,
    bound_s: float = STUCK_AFTER_S,
) -> tuple[dict[int, float], list[int]]:
    """Of this host's ``submitting`` jobs, those not ``busy`` (a request on the wire, an answer
    kept) are idle: (when each was first seen idle, those idle for ``bound_s`` or longer).
    A job first seen idle now starts its wait now; a clock gone back starts it again."""
    since: dict[int, float] = {}
    late: list[int] = []
    for job_id in submitting:
        if job_id in busy:
            continue
        first = idle_since.get(job_id, now)
        since[job_id] = first = first if first <= now else now
        if now - first >= bound_s:
            late.append(job_id)
    return since, late
