"""What a person can do to a job from the CLI: retry, resolve an uncertain one, accept one held
for review, cancel.

Each is one compare-and-set transition, so it is safe while the service runs: if the service
moved the job in the meantime, the action fails with a message instead of doing harm.
"""

from __future__ import annotations

import glob
from dataclasses import replace
from pathlib import Path
from typing import Any

from viggle_watch.errors import ApiError, NotFoundError, ViggleWatchError
from viggle_watch.outputs.atomic import sha256_of
from viggle_watch.outputs.failure import FAILED, PROCESSED
from viggle_watch.render.moves import move_clearing_error
from viggle_watch.render.preparer import uncertain_character_keys
from viggle_watch.render.review import ACCEPTED
from viggle_watch.store.assets import AssetKind, AssetStore
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import NEEDS_PERSON, TERMINAL, State
from viggle_watch.viggle.client import ViggleClient

CLEARED: dict[str, Any] = {
    "viggle_job_id": None,
    "progress_pct": None,
    "checkpoint": None,
    "result_url": None,
    "output_path": None,
    "output_sha256": None,
    "output_size": None,
    "error_code": None,
    "error_message": None,
    "mask_url": None,
    "mask_path": None,
    "mask_sha256": None,
    "mask_size": None,
    "render_started_at": None,
    "next_attempt_at": 0.0,
    "assets_json": "{}",
}


class ActionError(ViggleWatchError):
    """The job is not in a state that allows what was asked; the message says why."""


RETRYABLE = TERMINAL | NEEDS_PERSON  # uncertain only with force
BUSY = frozenset({State.SUBMITTING, State.DOWNLOADING})  # a request in flight: not now
RESOLVABLE = frozenset({State.UNCERTAIN})
ACCEPTABLE = frozenset({State.REVIEW})


def offered(state: State) -> tuple[str, ...]:
    """The actions a job in ``state`` allows (the dashboard shows these buttons; each action
    below checks the same sets again under its compare-and-set)."""
    said: list[str] = []
    if state in RESOLVABLE:
        said.append("resolve")
    if state in ACCEPTABLE:
        said.append("accept")
    if state in RETRYABLE:
        said.append("retry")
    if state not in TERMINAL and state not in BUSY:
        said.append("cancel")
    return tuple(said)


def _job(store: JobStore, job_id: int) -> Job:
    job = store.get(job_id)
    if job is None:
        raise ActionError(f"there is no job {job_id}")
    return job


def _find_input(path: Path, sha256: str) -> Path | None:
    """The input where it is now — the file with its bytes (sha256): in place, or filed away
    in processed/ or failed/. A later file dropped under the same name is not it."""
    if path.is_file() and sha256_of(path).hexdigest() == sha256:
        return path
    root = path.parent.parent if path.parent.name in (PROCESSED, FAILED) else path.parent
    for folder in (root / PROCESSED, root / FAILED, root):
        pattern = f"{glob.escape(path.stem)}*{glob.escape(path.suffix)}"
        candidates = sorted(folder.glob(pattern))
        for candidate in candidates:
            if sha256_of(candidate).hexdigest() == sha256:
                return candidate
    return None


def retry(store: JobStore, assets: AssetStore, job_id: int, *, force: bool, now: float) -> Job:
    """Queue a done, failed, cancelled or review job again (a deliberate re-render, paid), or
    with ``force`` an uncertain one (accepting that Viggle may already have charged for it)."""
    job = _job(store, job_id)
    if job.state == State.UNCERTAIN and not force:
        raise ActionError(
            f"job {job_id} is uncertain: Viggle may already have rendered and charged it. "
            "Check the Viggle dashboard; if it is there, use `jobs resolve "
            f"{job_id} --viggle-job ID`; to render again anyway, add --force"
        )
    if job.state not in RETRYABLE:
        raise ActionError(
            f"job {job_id} is {job.state}; only done, failed, cancelled, review or "
            "uncertain jobs can be retried"
        )
    for key in uncertain_character_keys(assets, job.spec):
        assets.forget(AssetKind.CHARACTER, key)
    found = _find_input(Path(job.spec.character.path), job.spec.character.sha256)
    fields: dict[str, Any] = dict(CLEARED)
    if found is not None and str(found) != job.spec.character.path:
        spec = replace(job.spec, character=replace(job.spec.character, path=str(found)))
        fields |= {"request_json": spec.to_json(), "source_path": str(found)}
    detail = "retried by a person" + (" (--force: may pay twice)" if force else "")
    queued = store.transition(job_id, job.state, State.QUEUED, at=now, detail=detail, **fields)
    if found is not None and str(found) != job.spec.character.path:
        store.relocate_source(job_id, job.spec.character.path, str(found))
    return queued


def resolve(
    store: JobStore,
    job_id: int,
    *,
    viggle_job: str,
    now: float,
    client: ViggleClient | None = None,
) -> Job:
    """An uncertain job that Viggle did receive: follow that Viggle job from now on.

    With a ``client``, the id is checked first, so a mistyped id is refused here instead of
    failing the job later.
    """
    job = _job(store, job_id)
    if job.state not in RESOLVABLE:
        raise ActionError(f"job {job_id} is {job.state}; only uncertain jobs can be resolved")
    if client is not None:
        try:
            client.get_render(viggle_job)
        except NotFoundError:
            raise ActionError(f"Viggle does not know a render job {viggle_job!r}") from None
        except ApiError as exc:
            raise ActionError(f"could not check {viggle_job!r} with Viggle: {exc}") from None
    events = store.events(job_id)
    if events and events[-1].from_state == State.PREPARING:
        raise ActionError(
            f"job {job_id} is uncertain because creating its character lost its answer; no "
            f"render was sent. Use `jobs retry {job_id} --force` to create it again"
        )
    detail = f"resolved by a person: viggle job {viggle_job}"
    return move_clearing_error(
        store,
        job,
        State.UNCERTAIN,
        State.RENDERING,
        now,
        detail,
        viggle_job_id=viggle_job,
        render_started_at=now,
        next_attempt_at=now,
    )


def accept(store: JobStore, job_id: int, *, now: float) -> Job:
    """A render held for review that a person looked at and finds fine: back to
    ``downloading``, where the service publishes it from ``_review/`` as done (the gate is
    not asked again: ``render.review.accepted_by_person``). Nothing is rendered or paid."""
    job = _job(store, job_id)
    if job.state not in ACCEPTABLE:
        raise ActionError(
            f"job {job_id} is {job.state}; only a job held for review can be accepted"
        )
    return store.transition(
        job_id,
        State.REVIEW,
        State.DOWNLOADING,
        at=now,
        detail=ACCEPTED,
        error_message=None,
        next_attempt_at=now,
        owner=None,  # any host may publish it (the one that held it may be gone)
    )


def cancel(store: JobStore, client: ViggleClient | None, job_id: int, *, now: float) -> Job:
    """Stop a job; a render already at Viggle is cancelled there too (its credits refunded)."""
    job = _job(store, job_id)
    if job.state in TERMINAL:
        raise ActionError(f"job {job_id} is already {job.state}")
    if job.state in BUSY:
        raise ActionError(f"job {job_id} is {job.state} right now; try again in a moment")
    detail = "cancelled by a person"
    if job.state == State.RENDERING and job.viggle_job_id:
        if client is None:
            raise ActionError("cancelling a rendering job needs the API key")
        try:
            client.cancel_render(job.viggle_job_id)
        except ApiError as exc:
            raise ActionError(f"Viggle did not cancel {job.viggle_job_id}: {exc}") from exc
        detail += f"; viggle job {job.viggle_job_id} cancelled"
    # only a render cancelled at Viggle gives its credits back; an uncertain one may have been
    # charged, and queued or waiting ones have no credits committed for this attempt
    refund = job.state == State.RENDERING
    return store.transition(  # why it stopped, in place of what it waited for before
        job_id,
        job.state,
        State.CANCELLED,
        at=now,
        detail=detail,
        refund=refund,
        error_code="cancelled",
        error_message=detail,
    )
