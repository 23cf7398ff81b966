"""What the web listener reads and calls (issue 18), and the operations the JSON API and the
dashboard share: one function for each, so the two can never disagree. The composition root
(``app.assembly``) hands the context in; answers are built by the same functions as
``status --json`` and ``jobs list|show --json``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from fastapi import HTTPException

from viggle_watch.config import Config
from viggle_watch.errors import ViggleWatchError
from viggle_watch.notify.metrics import Health, Metrics
from viggle_watch.store.backend import Backend
from viggle_watch.store.flags import Flag, FlagStore
from viggle_watch.store.jobs import Event, Job, JobStore
from viggle_watch.store.pages import JobQuery, page
from viggle_watch.web.stream import Watch
from viggle_watch.web.submissions.routes import Desk

log = structlog.get_logger()
NO_STORE = "there is no job store yet: the first `viggle-watch run` makes it"


@dataclass(frozen=True, slots=True)
class WebContext:
    config: Config
    metrics: Metrics
    health: Health
    token: str | None  # web.token_file's, read at start; None: read-only
    status: Callable[[], dict[str, Any]]  # what `status --json` prints
    open_db: Callable[[bool], Backend | None]  # (readonly) → the store, None before the first run
    summary: Callable[[Job, str, float], dict[str, Any]]  # a job as `jobs list --json` shows it
    detail: Callable[[Job, list[Event]], dict[str, Any]]  # a job as `jobs show --json` shows it
    act: Callable[[Backend, str, int, dict[str, Any]], Job]  # retry|cancel|resolve|accept
    watch: Watch  # every event the service emits, as it happens (the SSE stream)
    submissions: Desk  # files handed to a rule (the API's POST and the dashboard's drop)
    settling: Callable[[], list[Path]]  # files in the watch folders waiting to settle
    current: Callable[[], Config]  # the config as it is now (reloaded by SIGHUP): its rules


def jobs_page(ctx: WebContext, query: JobQuery) -> dict[str, Any]:
    """A page of jobs, newest first, each as `jobs list --json` shows it; ``next`` is the
    cursor of the following page (None: this was the last)."""
    db = ctx.open_db(True)
    if db is None:
        return {"jobs": [], "next": None}
    try:
        found = page(db, query)
        now = time.time()
        store = JobStore(db)
        listed = [ctx.summary(j, last_detail(store, j.id), now) for j in found]
    finally:
        db.close()
    more = len(found) == query.limit
    return {"jobs": listed, "next": found[-1].id if found and more else None}


def job_detail(ctx: WebContext, job_id: int) -> dict[str, Any]:
    """One job as `jobs show --json` shows it (404 when there is none)."""
    db = ctx.open_db(True)
    if db is None:
        raise HTTPException(404, f"there is no job {job_id}")
    try:
        store = JobStore(db)
        found = store.get(job_id)
        if found is None:
            raise HTTPException(404, f"there is no job {job_id}")
        return ctx.detail(found, store.events(job_id))
    finally:
        db.close()


def last_detail(store: JobStore, job_id: int) -> str:
    events = store.events(job_id)
    return events[-1].detail if events else ""


def set_paused(ctx: WebContext, *, paused: bool, reason: str) -> dict[str, Any]:
    """Raise or lower the pause flag, as `viggle-watch pause|resume` does (every host)."""
    db = ctx.open_db(False)
    if db is None:
        raise HTTPException(409, NO_STORE)
    try:
        flags = FlagStore(db)
        if paused:
            changed = flags.raise_flag(Flag.PAUSED, reason, now=time.time())
        else:
            changed = flags.lower(Flag.PAUSED)
        log.info("paused_over_http" if paused else "resumed_over_http", changed=changed)
        return {"paused": paused, "changed": changed}
    finally:
        db.close()


def act(ctx: WebContext, job_id: int, action: str, **options: Any) -> dict[str, Any]:
    """What `viggle-watch jobs ACTION ID` does; a job not in a state that allows it is 409
    with the CLI's words."""
    db = ctx.open_db(False)
    if db is None:
        raise HTTPException(404, f"there is no job {job_id}")
    try:
        job = ctx.act(db, action, job_id, options)
        log.info("job_action_over_http", action=action, job_id=job_id, state=str(job.state))
        return ctx.detail(job, JobStore(db).events(job_id))
    except ViggleWatchError as exc:  # the job is not in a state that allows it: say why
        log.info("job_action_over_http_refused", action=action, job_id=job_id, reason=str(exc))
        status = 404 if "there is no job" in str(exc) else 409
        raise HTTPException(status, str(exc)) from None
    finally:
        db.close()
