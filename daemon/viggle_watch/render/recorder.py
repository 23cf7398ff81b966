"""The answers to paid requests reach the store, whatever the store does meanwhile (issue 19;
docs/reliability.md §2.3).

An answer is written at once; if the store cannot take it, it is kept in memory and in the
local journal (``render.journal``) and tried again on every dispatch tick, in the order the
answers came, until the store takes it. Each try first asks the job as it now stands
(``render.unrecorded.decide``), so a write that did succeed is recognised, never doubled. A
clean stop tries once more and leaves the rest in the journal; start-up replays it before it
recovers anything. Last, a sweep makes ``uncertain`` (with the reason) any job of this host's
left in ``submitting`` with no request on the wire and no answer kept, a bound after it was
first seen so.

The answers to asset creations (a character costs a credit; ``render.asset_answers``) take the
same path: ``record_asset``, the same list, the same journal, the same retries and replay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

import structlog

from viggle_watch.errors import StoreUnavailableError, TransitionError
from viggle_watch.render import asset_answers
from viggle_watch.render.asset_answers import AssetAnswer
from viggle_watch.render.journal import Answer, Journal
from viggle_watch.render.unrecorded import (
    STUCK_AFTER_S,
    SWEEP_EVERY_S,
    Unrecorded,
    Verdict,
    decide,
    overdue,
)
from viggle_watch.store.assets import AssetStatus, AssetStore
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State

log = structlog.get_logger()
After = Callable[[Unrecorded, Job, State], None]  # the answer, its job once written, from where
RESOLVE_HINT = "check the Viggle dashboard, then `viggle-watch jobs resolve`"


class Recorder:
    """Kept answers (memory and journal), their retries, and the sweep of stuck submissions."""

    def __init__(
        self,
        store: JobStore,
        journal: Journal | None = None,
        *,
        assets: AssetStore | None = None,
        bound_s: float = STUCK_AFTER_S,
    ) -> None:
        self._store, self._journal, self._assets = store, journal, assets
        self.bound_s = bound_s
        self._kept: list[Answer] = []
        self._unsaved = False  # the journal could not be written: try again
        self._idle: dict[int, float] = {}
        self._swept_at: float | None = None
        self._after: After = lambda _answer, _job, _src: None
        self._lock = threading.RLock()

    def follow(self, after: After) -> None:
        """What follows a recorded answer (logs, the job's end), at once or once written late."""
        self._after = after

    def kept(self) -> frozenset[int]:
        """The jobs whose answers (a render's, an asset's) wait for the store."""
        with self._lock:
            return frozenset(a.job_id for a in self._kept)

    def record(self, answer: Unrecorded) -> None:
        """Write ``answer`` now; kept (and journaled) when the store cannot take it."""
        with self._lock:
            try:
                moved = self._move(answer, State.SUBMITTING, answer.detail)
            except TransitionError:  # taken over meanwhile: look at the job as it stands
                self._keep(answer, None)
                self.flush()
                return
            except Exception as exc:  # whatever it was, the answer is not lost
                self._keep(answer, exc)
                return
            self._follow(answer, moved, State.SUBMITTING)

    def record_asset(self, answer: AssetAnswer) -> None:
        """Write the answer to an asset's creation now; kept when the store cannot take it."""
        assert self._assets is not None, "a recorder for assets is given the asset store"
        with self._lock:
            try:
                done = self._write_asset(answer, AssetStatus.CREATING)
            except Exception as exc:  # whatever it was, the answer is not lost
                self._keep(answer, exc)
                return
            if not done:  # the row moved meanwhile: look at it as it stands
                self._keep(answer, None)
                self.flush()

    def _write_asset(self, answer: AssetAnswer, src: AssetStatus) -> bool:
        assert self._assets is not None
        return write_asset_answer(self._assets, answer, src)

    def _settle_asset(self, answer: AssetAnswer) -> None:
        assert self._assets is not None
        decision = asset_answers.decide(answer, self._assets.get(answer.kind, answer.key))
        words = {"kind": str(answer.kind), "job_id": answer.job_id, "viggle_id": answer.viggle_id}
        if decision.verdict is Verdict.WRITE:
            assert decision.src is not None
            if not self._write_asset(answer, decision.src):
                raise TransitionError(f"{answer.kind} {answer.key} moved while being written")
            log.warning("asset_answer_recorded_late", to=str(answer.to or "dropped"), **words)
        elif decision.verdict is Verdict.WRITTEN:
            log.warning("asset_answer_found_recorded", **words)
        elif decision.verdict is Verdict.NOTE:
            log.error("asset_answer_unrecorded", reason=decision.detail, hint=RESOLVE_HINT, **words)
        else:
            log.info("asset_answer_dropped", reason=decision.detail, **words)

    def flush(self) -> int:
        """Try every kept answer again, in order; stop at a store still away. Returns how
        many were settled (written, found written, noted or dropped)."""
        with self._lock:
            settled = 0
            for answer in list(self._kept):
                try:
                    if isinstance(answer, AssetAnswer):
                        self._settle_asset(answer)
                    else:
                        self._settle(answer)
                except StoreUnavailableError:
                    break  # still away: the rest wait for the next tick
                except Exception as exc:  # kept; said, tried again next tick
                    log.warning("outcome_still_unrecorded", job_id=answer.job_id, reason=str(exc))
                    continue
                self._kept.remove(answer)
                self._unsaved = True
                settled += 1
            if self._unsaved:
                self._save()
            return settled

    def _move(self, answer: Unrecorded, src: State, detail: str) -> Job:
        """The job moved from ``src`` as ``answer`` says."""
        return self._store.transition(
            answer.job_id,
            src,
            answer.dst,
            at=answer.at,
            detail=detail,
            refund=answer.refund,
            **answer.fields,
        )

    def _settle(self, answer: Unrecorded) -> None:
        job = self._store.get(answer.job_id)
        decision = decide(answer, job, self._store.events(answer.job_id) if job else [])
        words = {"job_id": answer.job_id, "viggle_job_id": answer.viggle_job_id}
        if decision.verdict is Verdict.WRITE:
            assert decision.src is not None
            moved = self._move(answer, decision.src, decision.detail)
            log.warning("outcome_recorded_late", to=str(answer.dst), **words)
            self._follow(answer, moved, decision.src)
        elif decision.verdict is Verdict.WRITTEN:
            assert job is not None
            log.warning("outcome_found_recorded", to=str(answer.dst), **words)
            self._follow(answer, job, State.SUBMITTING)
        elif decision.verdict is Verdict.NOTE:
            assert job is not None
            self._store.note(answer.job_id, decision.detail, at=answer.at)
            hint = RESOLVE_HINT if answer.dst is State.RENDERING else "a person decides"
            event = "render" if answer.viggle_job_id else "submission"
            why = decision.detail
            log.error(f"{event}_answer_unrecorded", state=job.state, reason=why, hint=hint, **words)
        else:  # an intent never written, said only for the record: nothing was sent
            say = log.warning if answer.sent else log.info
            say("outcome_dropped", reason=decision.detail, **words)

    def _follow(self, answer: Unrecorded, job: Job, src: State) -> None:
        try:
            self._after(answer, job, src)
        except Exception as exc:  # the answer is written; what follows is not
            log.warning("outcome_follow_up_failed", job_id=answer.job_id, reason=str(exc))

    def _keep(self, answer: Answer, error: Exception | None) -> None:
        self._kept.append(answer)
        self._unsaved = True
        self._save()
        if error is not None:
            where = self._journal.path if self._journal else "memory only"
            log.error(
                "outcome_not_recorded",
                job_id=answer.job_id,
                viggle_job_id=answer.viggle_job_id,
                to=str(answer.dst if isinstance(answer, Unrecorded) else answer.kind),
                reason=str(error),
                kept_in=str(where),
                hint="written as soon as the store takes it",
            )

    def _save(self) -> None:
        if self._journal is None:
            self._unsaved = False
            return
        try:
            self._journal.save(self._kept)
        except OSError as exc:
            log.error(
                "outcome_journal_not_written",
                path=str(self._journal.path),
                reason=str(exc),
                kept=len(self._kept),
            )
            return
        self._unsaved = False

    def replay(self) -> int:
        """At start-up, before any recovery: the answers a previous run could not write."""
        if self._journal is None:
            return 0
        found = self._journal.load()
        if not found:
            return 0
        log.warning("outcome_journal_replayed", path=str(self._journal.path), answers=len(found))
        with self._lock:
            self._kept[:0] = found
            self.flush()
        return len(found)

    def close(self) -> None:
        """At a clean stop (the ticks are over): a last try; the rest stays in the journal."""
        with self._lock:
            self.flush()
            if self._kept:
                where = self._journal.path if self._journal else None
                log.error(
                    "outcomes_left_unrecorded",
                    jobs=sorted(a.job_id for a in self._kept),
                    journal=str(where) if where else "none: they are only in this log",
                    hint="written at the next start" if where else RESOLVE_HINT,
                )

    def sweep(self, now: float, on_wire: Collection[int]) -> list[int]:
        """Every ``SWEEP_EVERY_S``: this host's jobs idle in ``submitting`` for ``bound_s``
        become ``uncertain`` with the reason. Returns their ids."""
        with self._lock:
            if self._swept_at is not None and 0 <= now - self._swept_at < SWEEP_EVERY_S:
                return []
            self._swept_at = now
            host = self._store.host
            mine = [
                job.id
                for job in self._store.latest(state=State.SUBMITTING, limit=10_000)
                if job.owner in (host, None)
            ]
            busy = {*on_wire, *(a.job_id for a in self._kept)}
            self._idle, late = overdue(mine, busy, self._idle, now, self.bound_s)
            made = []
            for job_id in late:
                reason = (
                    f"no answer to its request was recorded {self.bound_s:.0f} s after the"
                    " request ended; outcome unknown"
                )
                try:
                    self._store.transition(
                        job_id,
                        State.SUBMITTING,
                        State.UNCERTAIN,
                        at=now,
                        detail=reason,
                        error_message=reason,
                        mine=True,
                    )
                except TransitionError:
                    continue
                self._idle.pop(job_id, None)
                made.append(job_id)
                log.error("job_uncertain", job_id=job_id, reason=reason, hint=RESOLVE_HINT)
            return made


def write_asset_answer(assets: AssetStore, answer: AssetAnswer, src: AssetStatus) -> bool:
    """The asset row moved from ``src`` as ``answer`` says (False: it is no longer ``src``)."""
    return assets.settle(
        answer.kind,
        answer.key,
        src,
        answer.to,
        intent_at=answer.intent_at,
        at=answer.at,
        viggle_id=answer.viggle_id,
        detail=answer.detail,
        refund=answer.refund,
    )
