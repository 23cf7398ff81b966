"""The dispatch tick: prepared jobs → one paid POST each, with the intent committed first."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Final

import structlog

from viggle_watch.clock import day_of
from viggle_watch.errors import (
    ApiError,
    BudgetExceededError,
    FastUnavailableError,
    InFlightLimitError,
    InputChangedError,
    NotSentError,
    OutcomeUnknownError,
    StoreError,
    TransientError,
    TransitionError,
)
from viggle_watch.render.breaker import CircuitBreaker
from viggle_watch.render.budget import Budget, check_budget, estimate_credits, render_credits
from viggle_watch.render.moves import move_with_reason, wait_for_budget
from viggle_watch.render.outcomes import FAST_REFUSED, Attempt, Next, classify
from viggle_watch.render.recorder import RESOLVE_HINT, Recorder
from viggle_watch.render.sending import open_checked
from viggle_watch.render.unrecorded import Unrecorded, accepted, not_sent, refused
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.assets import AssetKind, AssetStore, scene_key
from viggle_watch.store.jobs import Job, Spend
from viggle_watch.store.states import IN_FLIGHT, State
from viggle_watch.viggle.inputs import IdsInput, MultiInput, RenderInput, RenderOptions, UploadInput

log = structlog.get_logger()
UNMOUNTED_RETRY_S: Final = 60.0


def render_input(job: Job, stack: ExitStack) -> RenderInput:
    """What to send: both files, open and verified (on demand; closed with ``stack``), or the
    prepared ids (preprocessed)."""
    spec = job.spec
    if spec.mode == "on_demand":
        assert spec.scene is not None
        return UploadInput(open_checked(spec.character, stack), open_checked(spec.scene, stack))
    ids: dict[str, str] = job.assets["characters"]
    scene_id: str = job.assets["scene"]
    if spec.segment is None and not spec.cast:
        return IdsInput(ids[spec.character.sha256], scene_id)
    mapping = {m.segment: ids[m.character.sha256] for m in spec.cast}
    if spec.segment is not None:
        mapping[spec.segment] = ids[spec.character.sha256]
    return MultiInput(scene_id, mapping)


def render_seconds(job: Job) -> float:
    spec = job.spec
    if spec.scene is not None and spec.scene.duration_s is not None:
        return spec.scene.duration_s
    return float(job.assets.get("duration_s") or 0.0)


def _estimate(job: Job) -> float:
    """The whole job's estimate once the render's length is known: the render, and the
    characters that were new when it was admitted."""
    new = int(job.assets.get("new_characters", 0))
    return float(
        estimate_credits(render_seconds(job), fast=job.spec.options.fast, new_characters=new)
    )


@dataclass(frozen=True, slots=True)
class SubmitSettings:
    max_in_flight: int
    poll_interval_s: float
    budget: Budget = Budget()


class Submitter:
    """Submits while fewer than ``max_in_flight`` renders are at Viggle; classifies outcomes."""

    def __init__(
        self,
        wiring: Wiring,
        assets: AssetStore,
        settings: SubmitSettings,
        *,
        breaker: CircuitBreaker,
        recorder: Recorder | None = None,
    ) -> None:
        self._store, self._client, self._on_ended = wiring.store, wiring.client, wiring.on_ended
        self._metrics, self.gate = wiring.metrics, wiring.gate
        self._assets = assets
        self._settings = settings
        self._breaker = breaker
        # the answers of paid requests reach the store, even through a blip (issue 19)
        self.recorder = recorder or Recorder(wiring.store)
        self.recorder.follow(self._after)
        self._on_wire: set[int] = set()  # jobs whose intent or request is under way
        self.draining = False
        self.full = False  # every render slot was taken during this tick
        self._refused = False  # the key was refused during this tick: stop sending

    def configure(self, settings: SubmitSettings) -> None:
        """A reloaded config's concurrency and budget apply from the next tick."""
        self._settings = settings

    def tick(self, now: float) -> int:
        """Submit what fits; return how many POSTs were made. First the answers the store
        could not take before, and a look for submissions stuck without one."""
        self.recorder.flush()
        self.recorder.sweep(now, self._on_wire)
        if self.draining or not self._breaker.allows(now):
            return 0
        slots = self._settings.max_in_flight - self._store.count_in(IN_FLIGHT)
        if slots <= 0:
            return 0
        sent = 0
        self.full = self._refused = False
        due = self._store.due(State.PREPARING, now, limit=200)
        if due and self.gate.holding():  # asked only when there is work: an idle tick is free
            return 0
        kept = self.recorder.kept()  # their answers are not written yet: never sent again
        for job in due:
            if sent >= slots or self.draining or self.full or self._refused:
                break
            if job.id in kept:
                continue
            if job.assets.get("ready") and self._within_budget(job, now):
                self._submit(job, now)
                sent += 1
        return sent

    def _within_budget(self, job: Job, now: float) -> bool:
        """Now that the render's length is known (a template's, a scene id's): the whole job
        against ``max_credits_per_job``, and the render's own cost against the daily cap."""
        per_job = Budget(max_credits_per_job=self._settings.budget.max_credits_per_job)
        whole = check_budget(_estimate(job), budget=per_job, spent_today=0.0, balance=None)
        if not whole.go:
            self._fail(
                job, State.PREPARING, now, "over_budget", f"{whole.reason} (its length known)"
            )
            return False
        cost = render_credits(render_seconds(job), fast=job.spec.options.fast)
        daily = Budget(daily_credits=self._settings.budget.daily_credits)
        verdict = check_budget(
            cost, budget=daily, spent_today=self._store.spent_on(day_of(now)), balance=None
        )
        if verdict.go:
            return True
        self._wait_budget(job, now, verdict.reason)
        return False

    def _wait_budget(self, job: Job, now: float, reason: str) -> None:
        """Not sent: to ``waiting_budget`` until the budget allows it."""
        wait_for_budget(self._store, job, State.PREPARING, now, reason)
        log.warning("job_waiting_budget", job_id=job.id, rule=job.rule, reason=reason)

    def _submit(self, job: Job, now: float) -> None:
        with ExitStack() as stack:  # the inputs stay open, as checked, until the POST is done
            try:
                sent = render_input(job, stack)
            except InputChangedError as exc:
                self._fail(job, State.PREPARING, now, exc.code, str(exc))
                return
            except NotSentError as exc:  # a share not mounted: fail nothing, try again later
                self._store.update(job.id, State.PREPARING, next_attempt_at=now + UNMOUNTED_RETRY_S)
                log.warning("watch_root_unavailable", job_id=job.id, reason=str(exc))
                return
            self._on_wire.add(job.id)  # from before its intent: never taken for a stuck one
            try:
                self._send(job, sent, now)
            finally:
                self._on_wire.discard(job.id)

    def _send(self, job: Job, sent: RenderInput, now: float) -> None:
        bound = log.bind(job_id=job.id, rule=job.rule)
        cost = render_credits(render_seconds(job), fast=job.spec.options.fast)
        before = self._balance_if_alone()
        # the intent (and its cost) is committed before the POST: a crash from here on
        # becomes `uncertain`, never a second submission. The daily cap is checked again in
        # that transaction, against what every host sharing the store has committed.
        try:
            intent = self._store.transition(
                job.id,
                State.PREPARING,
                State.SUBMITTING,
                at=now,
                attempts=job.attempts + 1,
                spend=Spend("render", cost, day_of(now)),
                daily_cap=self._settings.budget.daily_credits,
                max_in_flight=self._settings.max_in_flight,
                mine=True,  # a host whose lease ran out may not pay for it any more
                estimate_credits=_estimate(job),  # now with a template render's length
                balance_before=before,
            )
            self._store.forget_balances(but=job.id)
        except TransitionError:
            bound.warning("job_moved_before_submit", reason="another host holds it now")
            return
        except BudgetExceededError as exc:
            self._wait_budget(job, now, str(exc))
            return
        except InFlightLimitError:  # another host took the last slot: try again next tick
            self.full = True
            return
        except StoreError as exc:  # committed or not, nothing is sent: back to the queue if it was
            self.recorder.record(not_sent(job, now, f"the store failed: {exc}"))
            return
        choices = job.spec.options
        options = RenderOptions(
            job.spec.model, choices.background_mode, choices.bg_color, choices.fast
        )
        try:
            created = self._client.render(sent, options)
        except ApiError as exc:
            self._metrics.api_error(exc)
            # a 5xx or lost answer to the paid POST is an outage sign too (docs/reliability.md §2.8)
            outage = isinstance(exc, TransientError | OutcomeUnknownError)
            self._breaker.record(ok=not outage, now=now)
            self._classify_failure(intent, exc, now)
            return
        self._breaker.record(ok=True, now=now)
        # logged before it is stored: if the store fails now, the id is not lost
        bound.info("render_accepted", viggle_job_id=created.job_id)
        self._rendering(intent, created.job_id, now, credits=cost)

    def _rendering(self, job: Job, viggle_job_id: str, now: float, credits: float = 0.0) -> None:
        """Record the accepted render (``job`` as its intent left it). If this host fell
        silent during the POST, another host made the job ``uncertain``; this answer is the
        proof a person would look for, so the job moves on from there (unless a person got to
        it first). A store that cannot take it now takes it later (``render.recorder``)."""
        poll_s = self._settings.poll_interval_s
        self.recorder.record(accepted(job, viggle_job_id, now, poll_s, credits))

    def _after(self, answer: Unrecorded, job: Job, src: State) -> None:
        """What follows an answer once the store has it (at once, or later)."""
        bound = log.bind(job_id=job.id, rule=job.rule)
        if answer.dst is State.RENDERING:
            if src is State.UNCERTAIN:
                bound.warning("job_uncertain_resolved", viggle_job_id=answer.viggle_job_id)
            vid, credits = answer.viggle_job_id, answer.credits
            bound.info("render_submitted", viggle_job_id=vid, model=job.spec.model, credits=credits)
            self._metrics.submitted(job.rule, credits)
        elif answer.dst is State.QUEUED:
            delay_s = float(answer.fields.get("next_attempt_at", answer.at)) - answer.at
            reason = answer.detail.removeprefix("not sent: ")
            bound.warning("retry_scheduled", reason=reason, delay_s=round(delay_s, 1))
        elif answer.dst is State.WAITING_BUDGET:
            bound.warning("job_waiting_budget", reason=answer.detail)
        elif answer.dst is State.FAILED:
            code = answer.fields.get("error_code")
            bound.error("job_failed", reason=answer.detail, code=code)
            self._on_ended(job)
        else:
            error = answer.fields.get("error_message")
            bound.error("job_uncertain", reason=error, hint=RESOLVE_HINT)

    def _balance_if_alone(self) -> float | None:
        """The balance before the POST, when no other paid request is in flight (a free
        call); with the balance after, it tells the charge Viggle does not report."""
        if self._store.count_in(IN_FLIGHT) > 0:
            return None
        try:
            return self._client.credits(retry=False).balance
        except ApiError:
            return None

    def _fail(self, job: Job, src: State, now: float, code: str, message: str) -> None:
        refund = src == State.SUBMITTING  # its own intent's credits; none before that
        move_with_reason(
            self._store, job, src, State.FAILED, now, message, error_code=code, refund=refund
        )
        log.error("job_failed", job_id=job.id, rule=job.rule, reason=message, code=code)
        self._on_ended(job)

    def _classify_failure(self, job: Job, exc: ApiError, now: float) -> None:
        """docs/reliability.md §2.4: only a provably unsent or refused request leaves
        ``submitting`` with its credits back; the table is ``outcomes.classify``. ``job`` is
        as its intent left it."""
        fast = isinstance(exc, FastUnavailableError)
        attempt = Attempt(
            job.attempts,
            self._fast_refusals(job) if fast else 0,
            can_recreate=job.spec.mode == "preprocessed" and not job.assets.get("recreated"),
        )
        outcome = classify(exc, attempt)
        self._refused = self._refused or outcome.pause
        try:  # these help the next tries; the answer is recorded (or kept) whatever they do
            if outcome.next is Next.RECREATE:
                self._forget_assets(job)
            if outcome.pause:  # the key was refused: every submission waits for a check to pass
                self.gate.key_refused(str(exc), now)
        except StoreError as failed:
            log.warning("submission_follow_up_failed", job_id=job.id, reason=str(failed))
        self.recorder.record(refused(job, outcome, str(exc), now))

    def _fast_refusals(self, job: Job) -> int:
        """How often fast mode was refused for this job (other retries, e.g. 429s, not counted);
        with the store away, none (at most one more free try)."""
        marker = f"not sent: {FAST_REFUSED}"
        try:
            events = self._store.events(job.id)
        except StoreError:
            return 0
        return sum(1 for e in events if e.detail.startswith(marker))

    def _forget_assets(self, job: Job) -> None:
        spec = job.spec
        for ref in spec.characters:
            self._assets.forget(AssetKind.CHARACTER, ref.sha256)
        if spec.scene is not None:
            self._assets.forget(AssetKind.SCENE, scene_key(spec.scene.sha256, spec.model))
        if spec.template is not None:
            self._assets.forget(AssetKind.TEMPLATE, f"{spec.template}:{spec.model}")
