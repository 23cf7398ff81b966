"""The one place job events are told (issue 17): every state change the service commits comes
here (``JobStore.on_moved``), becomes an ``Event`` (``notify.events.job_event``), and goes to
the outbox — notify targets, service webhooks, the metrics — and, for a job that ended done,
failed or in review, to its rule's own ``on_done`` / ``on_failed`` hook (read at each call: a
reload replaces the rules whole)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog

from viggle_watch.config import Rule
from viggle_watch.notify.events import job_event
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.notify.outbox import Outbox
from viggle_watch.store.jobs import Job

log = structlog.get_logger()


class Announcer:
    def __init__(
        self,
        outbox: Outbox,
        hooks: HookRunner,
        rules: Callable[[], Mapping[str, Rule]],
        clock: Callable[[], float],
    ) -> None:
        self._outbox, self._hooks, self._rules, self._clock = outbox, hooks, rules, clock

    def moved(self, job: Job) -> None:
        """``job`` has just entered its state: tell whoever listens (returns at once). Called
        inside ``JobStore.transition`` after the commit: nothing here may undo or hide it."""
        try:
            self._tell(job)
        except Exception:  # a listener's failure is logged, never the state change's
            log.exception("job_event_not_told", job_id=job.id, state=str(job.state))

    def _tell(self, job: Job) -> None:
        event = job_event(job, self._clock())
        if event is None:
            return
        self._outbox.emit(event)
        rule = self._rules().get(job.rule)
        if rule is not None:  # which endings run a hook is the hooks' own table (event_for)
            self._hooks.ended(job, on_done=rule.on_done, on_failed=rule.on_failed)
