"""Preprocessed mode: make each character and scene once, wait until ready, cache the id.

One ``step`` per call, so the preparer can come back every few seconds. Creating follows the
render rules: the intent is committed before the POST; the answer (the asset's id, or a
refusal) goes to the store through ``AssetCalls.record`` (the service's ``render.recorder``: kept
and written later when the store cannot take it, docs/reliability.md §2.3); an answer lost all
the same, to a paid creation (a character costs a credit), is ``uncertain`` and never repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import structlog

from viggle_watch.clock import day_of
from viggle_watch.errors import ApiError, BudgetExceededError, InputChangedError, NotFoundError
from viggle_watch.render.asset_answers import AssetAnswer, created
from viggle_watch.render.budget import CHARACTER_CREDITS
from viggle_watch.render.outcomes import Attempt, Next, classify
from viggle_watch.render.recorder import write_asset_answer
from viggle_watch.store.assets import PAID_KINDS, AssetKind, AssetStatus, AssetStore
from viggle_watch.viggle.schemas import AssetCreated

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Remote:
    """What a GET of the asset said: its status, and for scenes the output seconds."""

    status: str
    duration_s: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """``ready`` (with id), ``waiting``, ``failed``, ``uncertain``, ``budget`` (402) or
    ``key_refused`` (401/403: waiting, and every new paid step is held)."""

    outcome: str
    viggle_id: str = ""
    duration_s: float | None = None
    reason: str = ""
    code: str = ""  # for ``failed``: the job's error code, when not ``asset_failed``


WAITING = Step("waiting")


@dataclass(frozen=True, slots=True)
class AssetCalls:
    create: Callable[[], AssetCreated]
    fetch: Callable[[str], Remote]
    record: Callable[[AssetAnswer], None] | None = None  # None: written at once, or raised


def _write(assets: AssetStore, calls: AssetCalls, answer: AssetAnswer) -> None:
    if calls.record is not None:
        calls.record(answer)
        return
    write_asset_answer(assets, answer, AssetStatus.CREATING)


def ensure(
    assets: AssetStore,
    kind: AssetKind,
    key: str,
    calls: AssetCalls,
    *,
    job_id: int,
    now: float,
    daily_cap: float | None = None,
    may_create: bool = True,
) -> Step:
    """Move one asset one step towards ``ready``; say where it stands. A paid creation's
    intent is committed only within ``daily_cap`` (counted across hosts); with ``may_create``
    False (paused, or the key refused) nothing new is made, but what exists is still polled."""
    asset = assets.get(kind, key)
    if asset is None and not may_create:
        return WAITING
    if asset is None:
        credits = float(CHARACTER_CREDITS) if kind in PAID_KINDS else 0.0
        day = day_of(now)
        try:
            begun = assets.begin_create(
                kind, key, job_id=job_id, at=now, credits=credits, day=day, daily_cap=daily_cap
            )
        except BudgetExceededError as exc:
            return Step("budget", reason=str(exc))
        return _create(assets, kind, key, calls, job_id=job_id, now=now) if begun else WAITING
    if asset.status == AssetStatus.READY:
        return Step("ready", asset.viggle_id, asset.duration_s)
    if asset.status == AssetStatus.FAILED:
        return Step("failed", reason=f"{kind} could not be made: {asset.detail}")
    if asset.status == AssetStatus.UNCERTAIN:
        return Step("uncertain", reason=f"{kind} creation outcome unknown: {asset.detail}")
    if asset.status == AssetStatus.CREATING:
        return WAITING
    return _poll(assets, kind, key, asset.viggle_id, calls, now)


def _create(
    assets: AssetStore, kind: AssetKind, key: str, calls: AssetCalls, *, job_id: int, now: float
) -> Step:
    """The creation's intent is committed: send it."""
    dropped = AssetAnswer(kind, key, job_id, now, None, now, refund=True)
    try:
        made = calls.create()
    except InputChangedError as exc:  # not the file that was checked: nothing was sent
        _write(
            assets, calls, AssetAnswer(kind, key, job_id, now, None, now, refund=True, sent=False)
        )
        return Step("failed", reason=str(exc), code=exc.code)
    except ApiError as exc:
        return _refused(assets, calls, dropped, exc)
    _write(assets, calls, created(kind, key, job_id, now, made.id))
    log.info("asset_created", kind=kind, job_id=job_id, viggle_id=made.id)
    return WAITING


def _refused(assets: AssetStore, calls: AssetCalls, dropped: AssetAnswer, exc: ApiError) -> Step:
    """A creation that failed, by the one table of paid steps (``outcomes.classify``)."""
    kind, job_id = dropped.kind, dropped.job_id
    outcome = classify(exc, Attempt(paid=kind in PAID_KINDS))
    if outcome.next is Next.UNCERTAIN:
        answer = replace(dropped, to=AssetStatus.UNCERTAIN, detail=str(exc), refund=False)
        _write(assets, calls, answer)
        log.error("asset_uncertain", kind=kind, job_id=job_id, reason=str(exc))
        return Step("uncertain", reason=f"{kind} creation {outcome.reason}")
    if outcome.next is Next.FAIL:
        _write(assets, calls, replace(dropped, to=AssetStatus.FAILED, detail=outcome.reason))
        return Step("failed", reason=f"{kind} was refused: {outcome.reason}")
    _write(assets, calls, dropped)  # not made: make it again when it is due
    if outcome.next is Next.WAIT_BUDGET:
        return Step("budget", reason=outcome.reason)
    if outcome.pause:  # the preparer holds all new paid work until the key passes a check
        return Step("key_refused", reason=outcome.reason)
    log.warning("asset_retry_scheduled", kind=kind, job_id=job_id, reason=outcome.reason)
    return WAITING


def _poll(
    assets: AssetStore, kind: AssetKind, key: str, viggle_id: str, calls: AssetCalls, now: float
) -> Step:
    try:
        remote = calls.fetch(viggle_id)
    except NotFoundError:
        assets.forget(kind, key)  # the API forgot it: make it again (the caller counts tries)
        return Step("gone", reason=f"Viggle no longer knows {kind} {viggle_id}")
    except ApiError as exc:
        log.warning("asset_poll_failed", kind=kind, viggle_id=viggle_id, reason=str(exc))
        return WAITING
    if remote.status == "ready":
        assets.set(kind, key, AssetStatus.READY, at=now, duration_s=remote.duration_s)
        return Step("ready", viggle_id, remote.duration_s)
    if remote.status == "failed":
        reason = remote.error or "Viggle could not process it"
        assets.set(kind, key, AssetStatus.FAILED, at=now, detail=reason)
        return Step("failed", reason=f"{kind} failed at Viggle: {reason}")
    return WAITING
