"""When a job ends (done, failed or cancelled), the one place that says so: one ``job_finished``
line, and its inputs filed away by its rule's ``inputs`` policy. (Its rule's hooks are told by
``notify.announce``, with every other listener of the job's events.)

The service, the CLI (``jobs cancel``) and the intake all end jobs or file inputs through a
:class:`Finisher`, so every way a job ends is logged once and filed the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import structlog

from viggle_watch.config import Rule
from viggle_watch.outputs.filing import archive_source
from viggle_watch.outputs.sidecar import output_now
from viggle_watch.store.jobs import Job, JobStore

log = structlog.get_logger()
DEFAULT_POLICY = "processed"  # the inputs policy of a job whose rule a reload removed


def _nothing(_path: Path) -> None:
    return None


class Finisher:
    """Ends jobs the one way: ``ended(job)`` after the store has committed its final state."""

    def __init__(
        self,
        store: JobStore,
        rules: Callable[[], Mapping[str, Rule]],
        *,
        clock: Callable[[], float],
        on_moved: Callable[[Path], None] = _nothing,
    ) -> None:
        self._store = store
        self._rules = rules  # read at each call: a reload swaps the whole mapping
        self._clock = clock
        self._on_moved = on_moved

    def ended(self, job: Job) -> None:
        """Log ``job_finished`` and file the job's inputs (``job`` may be the copy from before
        its last transition, so the store is asked for the final one)."""
        finished = self._store.get(job.id) or job
        now = self._clock()
        log.info(
            "job_finished",
            job_id=job.id,
            rule=job.rule,
            result=str(finished.state),
            duration_s=round(now - job.created_at, 3),
            attempts=finished.attempts,
            estimate_credits=finished.estimate_credits,
            charged_credits=finished.charged_credits,  # None: not known, or nothing charged
            output=output_now(finished),
            error=finished.error_message,
        )
        rule = self._rules().get(job.rule)
        sources = (Path(s) for s in self._store.sources(job.id))
        file_away(self._store, sources, rule, now, self._on_moved)


def file_away(
    store: JobStore,
    sources: Iterable[Path],
    rule: Rule | None,
    now: float,
    on_moved: Callable[[Path], None] = _nothing,
) -> None:
    """File each input whose jobs have all ended, by the rule's ``inputs`` policy."""
    policy = rule.inputs if rule is not None else DEFAULT_POLICY
    for source in sources:
        archive_source(store, source, policy=policy, at=now, on_moved=on_moved)
