"""The prepare tick: budget check before anything is spent, then (preprocessed mode) assets."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

import structlog

from viggle_watch.clock import day_of
from viggle_watch.errors import ApiError, AuthError
from viggle_watch.render.budget import Budget, check_budget, estimate_credits
from viggle_watch.render.moves import move_clearing_error, move_with_reason, wait_for_budget
from viggle_watch.render.preprocess import AssetCalls, Remote, Step, ensure
from viggle_watch.render.recorder import Recorder
from viggle_watch.render.retry import BUDGET_RECHECK_S
from viggle_watch.render.sending import open_checked
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.assets import AssetKind, AssetStatus, AssetStore, scene_key
from viggle_watch.store.jobs import Job
from viggle_watch.store.spec import InputRef, JobSpec
from viggle_watch.store.states import State
from viggle_watch.viggle.schemas import AssetCreated

log = structlog.get_logger()
BALANCE_TTL_S: Final = 30.0
BATCH: Final = 50
PREPARING_ONLY: Final = frozenset({State.PREPARING})


class Preparer:
    """queued → preparing (budget allowing) → assets ready; or waiting_budget / failed."""

    def __init__(
        self,
        wiring: Wiring,
        assets: AssetStore,
        *,
        budget: Budget,
        asset_poll_s: float,
        admit_window: int | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        # a creation's answer goes through the recorder: kept when the store cannot take it
        self._record = recorder.record_asset if recorder is not None else None
        self._store, self._client, self._on_ended = wiring.store, wiring.client, wiring.on_ended
        self.gate = wiring.gate
        self._assets = assets
        self._budget = budget
        self._asset_poll_s = asset_poll_s
        # on a shared store: at most this many jobs preparing at once, across every host, so
        # that no host takes more of the queue than it can submit soon (the others get the rest)
        self._admit_window = admit_window
        self._balance: tuple[float, float | None] = (-1e18, None)

    def configure(self, budget: Budget, admit_window: int | None = None) -> None:
        """A reloaded config's budget applies from the next tick."""
        self._budget = budget
        self._admit_window = admit_window

    def tick(self, now: float) -> int:
        """Admit queued jobs, re-check waiting ones, move preparing ones on; return jobs seen."""
        waiting = self._store.due(State.WAITING_BUDGET, now, limit=BATCH)
        for job in waiting:
            self._recheck(job, now)
        room = BATCH
        if self._admit_window is not None:
            room = min(room, self._admit_window - self._store.count_in(PREPARING_ONLY))
        queued = self._store.due(State.QUEUED, now, limit=room) if room > 0 else []
        preparing = [
            j
            for j in self._store.due(State.PREPARING, now, limit=BATCH)
            if not j.assets.get("ready")
        ]
        # paused, or the key refused: nothing new (asked only when there is work: idle is free)
        held = bool(queued or preparing) and self.gate.holding() is not None
        for job in [] if held else queued:
            self._admit(job, now)
        for job in preparing:  # what was paid for is still polled while held
            self._prepare(job, now, create=not held)
        return len(waiting) + len(queued) + len(preparing)

    # budget ------------------------------------------------------------------------------

    def balance(self, now: float) -> float | None:
        """The account balance from ``GET /api/credits``, cached briefly; None if unknown."""
        at, value = self._balance
        if now - at < BALANCE_TTL_S:
            return value
        try:
            value = self._client.credits(retry=False).balance
        except AuthError as exc:  # the free call that shows the key is refused
            self.gate.key_refused(str(exc), now)
            value = None
        except ApiError as exc:
            log.warning("balance_unavailable", reason=str(exc))
            value = None
        self._balance = (now, value)
        return value

    def _seconds(self, spec: JobSpec) -> float | None:
        """The render's length: the scene video's, or a known template's (else None)."""
        return spec.scene.duration_s if spec.scene else self._cached_scene_seconds(spec)

    def estimate(self, spec: JobSpec) -> float:
        """ceil(output seconds) x (2 if fast) + 1 per character not yet made (preprocessed).
        A template whose length is not known yet counts 0 here; the submitter sets the
        estimate again once the import has told it (``new_characters`` is kept for that)."""
        seconds, new = self._seconds(spec), self._new_characters(spec)
        return float(estimate_credits(seconds or 0.0, fast=spec.options.fast, new_characters=new))

    def _new_characters(self, spec: JobSpec) -> int:
        if spec.mode != "preprocessed":
            return 0
        shas = {c.sha256 for c in spec.characters}
        return sum(1 for sha in shas if self._assets.get(AssetKind.CHARACTER, sha) is None)

    def _cached_scene_seconds(self, spec: JobSpec) -> float | None:
        if spec.template is None:
            return None
        asset = self._assets.get(AssetKind.TEMPLATE, f"{spec.template}:{spec.model}")
        return asset.duration_s if asset else None

    def _verdict_reason(self, job: Job, now: float) -> tuple[bool, bool, str, float]:
        estimate = self.estimate(job.spec)
        verdict = check_budget(
            estimate,
            budget=self._budget,
            spent_today=self._store.spent_on(day_of(now)),
            balance=self.balance(now),
        )
        return verdict.go, verdict.permanent, verdict.reason, estimate

    def _admit(self, job: Job, now: float) -> None:
        go, permanent, reason, estimate = self._verdict_reason(job, now)
        if permanent:
            self._fail(job, State.QUEUED, now, reason, "over_budget", estimate_credits=estimate)
            return
        if not go:
            wait_for_budget(self._store, job, State.QUEUED, now, reason, estimate_credits=estimate)
            log.warning("job_waiting_budget", job_id=job.id, rule=job.rule, reason=reason)
            return
        ready = job.spec.mode == "on_demand"
        detail = f"estimated {estimate:g} credit{'' if estimate == 1 else 's'}"
        new = self._new_characters(job.spec)  # for the estimate once a template's length is known
        assets_json = json.dumps({**job.assets, "ready": ready, "new_characters": new})
        move_clearing_error(
            self._store,
            job,
            State.QUEUED,
            State.PREPARING,
            now,
            detail,
            estimate_credits=estimate,
            assets_json=assets_json,
            next_attempt_at=now,
        )

    def _recheck(self, job: Job, now: float) -> None:
        go, _permanent, reason, _estimate = self._verdict_reason(job, now)
        if go:
            detail = "the budget allows it now"
            move_clearing_error(self._store, job, State.WAITING_BUDGET, State.QUEUED, now, detail)
        else:
            self._store.update(
                job.id,
                State.WAITING_BUDGET,
                error_message=reason,
                next_attempt_at=now + BUDGET_RECHECK_S,
            )

    # moves that carry a reason ------------------------------------------------------------

    def _fail(
        self, job: Job, src: State, now: float, reason: str, code: str, **fields: Any
    ) -> None:
        """To ``failed``: the job has ended."""
        move_with_reason(
            self._store, job, src, State.FAILED, now, reason, error_code=code, **fields
        )
        log.error("job_failed", job_id=job.id, rule=job.rule, reason=reason)
        self._on_ended(job)

    # assets (preprocessed mode) ----------------------------------------------------------

    def _character_calls(self, ref: InputRef) -> AssetCalls:
        def fetch(viggle_id: str) -> Remote:
            c = self._client.get_character(viggle_id)
            return Remote(c.status, None, c.error_message or c.error)

        def create() -> AssetCreated:
            with ExitStack() as stack:  # uploaded from the descriptor that was verified
                image = open_checked(ref, stack)
                self._store.forget_balances()  # a paid request: no render's balance reading holds
                return self._client.create_character(name, image)

        name = Path(ref.path).stem[:64]
        return AssetCalls(create, fetch, self._record)

    def _fetch_scene(self, viggle_id: str) -> Remote:
        s = self._client.get_scene(viggle_id)
        return Remote(s.status, s.duration_seconds, s.error_message)

    def _scene_step(self, job: Job, now: float, create: bool) -> Step:
        spec = job.spec
        if spec.scene is not None:
            scene = spec.scene

            def create_scene() -> AssetCreated:
                with ExitStack() as stack:
                    video = open_checked(scene, stack)
                    return self._client.create_scene(
                        Path(scene.path).stem[:64], video, model=spec.model
                    )

            calls = AssetCalls(create_scene, self._fetch_scene, self._record)
            key = scene_key(scene.sha256, spec.model)
            return ensure(
                self._assets, AssetKind.SCENE, key, calls, job_id=job.id, now=now, may_create=create
            )
        if spec.template is not None:
            template = spec.template
            calls = AssetCalls(
                lambda: self._client.import_template(template), self._fetch_scene, self._record
            )
            key = f"{template}:{spec.model}"
            return ensure(
                self._assets,
                AssetKind.TEMPLATE,
                key,
                calls,
                job_id=job.id,
                now=now,
                may_create=create,
            )
        assert spec.scene_id is not None
        try:
            remote = self._fetch_scene(spec.scene_id)
        except ApiError as exc:
            return Step("failed", reason=f"scene {spec.scene_id}: {exc}")
        if remote.status == "ready":
            return Step("ready", spec.scene_id, remote.duration_s)
        return Step(
            "failed" if remote.status == "failed" else "waiting",
            reason=f"scene {spec.scene_id} is {remote.status}",
        )

    def _prepare(self, job: Job, now: float, *, create: bool) -> None:
        steps: dict[str, Step] = {}
        for ref in job.spec.characters:
            if ref.sha256 not in steps:
                steps[ref.sha256] = ensure(
                    self._assets,
                    AssetKind.CHARACTER,
                    ref.sha256,
                    self._character_calls(ref),
                    job_id=job.id,
                    now=now,
                    daily_cap=self._budget.daily_credits,
                    may_create=create,
                )
        steps["scene"] = self._scene_step(job, now, create)
        self._settle(job, steps, now)

    def _settle(self, job: Job, steps: dict[str, Step], now: float) -> None:
        outcomes = {s.outcome for s in steps.values()}
        reasons = "; ".join(s.reason for s in steps.values() if s.reason)
        if "key_refused" in outcomes:  # the job waits in preparing, like any other wait
            self.gate.key_refused(reasons, now)
        if "uncertain" in outcomes:
            move_with_reason(self._store, job, State.PREPARING, State.UNCERTAIN, now, reasons)
            log.error("job_uncertain", job_id=job.id, rule=job.rule, reason=reasons)
        elif "failed" in outcomes or ("gone" in outcomes and job.assets.get("recreated")):
            code = next((s.code for s in steps.values() if s.code), "asset_failed")
            self._fail(job, State.PREPARING, now, reasons, code)
        elif "budget" in outcomes:
            wait_for_budget(self._store, job, State.PREPARING, now, reasons)
        elif outcomes == {"ready"}:
            self._mark_ready(job, steps, now)
        else:
            assets: dict[str, Any] = dict(job.assets)
            if "gone" in outcomes:
                assets["recreated"] = 1
            self._store.update(
                job.id,
                State.PREPARING,
                assets_json=json.dumps(assets),
                next_attempt_at=now + self._asset_poll_s,
            )

    def _mark_ready(self, job: Job, steps: dict[str, Step], now: float) -> None:
        scene = steps.pop("scene")
        assets = {
            **job.assets,
            "ready": True,
            "scene": scene.viggle_id,
            "duration_s": scene.duration_s,
            "characters": {sha: s.viggle_id for sha, s in steps.items()},
        }
        self._store.update(
            job.id, State.PREPARING, assets_json=json.dumps(assets), next_attempt_at=now
        )
        log.info("assets_ready", job_id=job.id, rule=job.rule, scene=scene.viggle_id)


def uncertain_character_keys(assets: AssetStore, spec: JobSpec) -> list[str]:
    """The characters of ``spec`` whose creation is uncertain (a person must decide)."""
    keys = []
    for ref in spec.characters:
        asset = assets.get(AssetKind.CHARACTER, ref.sha256)
        if asset is not None and asset.status == AssetStatus.UNCERTAIN:
            keys.append(ref.sha256)
    return keys
