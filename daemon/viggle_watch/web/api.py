"""The JSON API under ``/api/v1/`` (issue 18; docs/web.md), with ``/healthz`` and ``/metrics``,
as a FastAPI app in the service's process (imported only when ``web`` is configured). Its
OpenAPI document is at ``/api/v1/openapi.json``. Every answer is built by the same code as
``status --json`` and ``jobs list|show --json`` (``app.report``), from the job store.

So far: reading status and jobs (filters, cursor paging); live events (SSE); pause/resume;
retry, cancel, resolve and accept. Submissions and the dashboard come next.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from viggle_watch import __version__
from viggle_watch.config import Config
from viggle_watch.errors import ViggleWatchError
from viggle_watch.notify.metrics import Health, Metrics
from viggle_watch.serving import is_loopback_host
from viggle_watch.store.backend import Backend
from viggle_watch.store.flags import Flag, FlagStore
from viggle_watch.store.jobs import Event, Job, JobStore
from viggle_watch.store.pages import MAX_PAGE, JobQuery, page
from viggle_watch.store.states import State
from viggle_watch.web.guard import bearer, host_allowed, judge, named_elsewhere
from viggle_watch.web.stream import Watch, stream

WORDS = {
    "bad_host": (421, "this listener does not answer to that Host (web.hosts names others)"),
    "no_token": (401, "this needs the token from web.token_file: Authorization: Bearer TOKEN"),
    "read_only": (403, "read-only: no web.token_file is configured, so nothing can be changed"),
}


@dataclass(frozen=True, slots=True)
class WebContext:
    """What the API reads and calls, handed in by the composition root (``app.assembly``):
    the answers are built by the same functions as ``status --json`` and ``jobs … --json``."""

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


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(
        title="viggle-watch",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    _guard(app, ctx)
    _service_routes(app, ctx)
    _job_routes(app, ctx)
    _action_routes(app, ctx)
    return app


def _guard(app: FastAPI, ctx: WebContext) -> None:
    settings = ctx.config.web
    assert settings is not None
    listen = settings.address

    @app.middleware("http")
    async def guarded(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """The Host check and the token, before any route (docs/web.md#security)."""
        if not host_allowed(request.headers.get("host"), listen, settings.hosts):
            return _refused("bad_host")
        verdict = judge(
            request.method,
            token=ctx.token,
            given=bearer(request.headers.get("authorization")),
            open_reads=settings.open_reads,
            loopback=is_loopback_host(listen[0])
            and not named_elsewhere(request.headers.get("host"), settings.hosts),
        )
        if verdict != "ok":
            return _refused(verdict)
        return await call_next(request)


def _service_routes(app: FastAPI, ctx: WebContext) -> None:
    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> PlainTextResponse:
        ok, reason = ctx.health()
        return PlainTextResponse(reason or "ok", status_code=200 if ok else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(ctx.metrics.exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/api/v1/status")
    def status() -> dict[str, Any]:
        """What `viggle-watch status --json` prints."""
        return ctx.status()

    @app.get("/api/v1/events")
    def events(request: Request) -> StreamingResponse:
        """Every event the service emits, as Server-Sent Events (docs/notifications.md)."""
        return StreamingResponse(
            stream(request, ctx.watch),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.post("/api/v1/pause")
    def pause(reason: str = "paused from the API") -> dict[str, Any]:
        """Hold every new paid step on every host, as `viggle-watch pause` does."""
        return _flag(ctx, raise_it=True, reason=reason)

    @app.post("/api/v1/resume")
    def resume() -> dict[str, Any]:
        """Lift a pause, as `viggle-watch resume` does."""
        return _flag(ctx, raise_it=False, reason="")


def _job_routes(app: FastAPI, ctx: WebContext) -> None:
    @app.get("/api/v1/jobs")
    def jobs(
        state: State | None = None,
        rule: str | None = None,
        q: Annotated[str | None, Query(description="text in the input's name")] = None,
        since: float | None = None,
        until: float | None = None,
        cursor: Annotated[int | None, Query(description="`next` of the page before")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    ) -> dict[str, Any]:
        """Jobs, newest first, as `jobs list --json` shows each; `next` is the cursor of the
        following page (null: this was the last)."""
        db = ctx.open_db(True)
        if db is None:
            return {"jobs": [], "next": None}
        query = JobQuery(str(state) if state else None, rule, q, since, until, cursor, limit)
        try:
            found = page(db, query)
            now = time.time()
            store = JobStore(db)
            listed = [ctx.summary(j, _last_detail(store, j.id), now) for j in found]
        finally:
            db.close()
        more = len(found) == query.limit
        return {"jobs": listed, "next": found[-1].id if found and more else None}

    @app.get("/api/v1/jobs/{job_id}")
    def job(job_id: int) -> dict[str, Any]:
        """One job, as `jobs show --json` shows it: inputs, options, every transition."""
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


def _refused(verdict: str) -> JSONResponse:
    status, words = WORDS[verdict]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": words}, status_code=status, headers=headers)


def _last_detail(store: JobStore, job_id: int) -> str:
    events = store.events(job_id)
    return events[-1].detail if events else ""


def _flag(ctx: WebContext, *, raise_it: bool, reason: str) -> dict[str, Any]:
    db = ctx.open_db(False)
    if db is None:
        raise HTTPException(409, "there is no job store yet: the first `viggle-watch run` makes it")
    try:
        flags = FlagStore(db)
        if raise_it:
            changed = flags.raise_flag(Flag.PAUSED, reason, now=time.time())
        else:
            changed = flags.lower(Flag.PAUSED)
        return {"paused": raise_it, "changed": changed}
    finally:
        db.close()


def _action_routes(app: FastAPI, ctx: WebContext) -> None:
    """What `viggle-watch jobs retry|cancel|resolve|accept` does, over HTTP (token)."""

    @app.post("/api/v1/jobs/{job_id}/retry")
    def retry(job_id: int, force: bool = False) -> dict[str, Any]:
        """Render again (paid, on purpose); ``force`` also for an uncertain job."""
        return _act(ctx, job_id, "retry", force=force)

    @app.post("/api/v1/jobs/{job_id}/cancel")
    def cancel(job_id: int) -> dict[str, Any]:
        """Stop the job; a render at Viggle is cancelled there too (credits refunded)."""
        return _act(ctx, job_id, "cancel")

    @app.post("/api/v1/jobs/{job_id}/resolve")
    def resolve(job_id: int, viggle_job: str) -> dict[str, Any]:
        """An uncertain job that Viggle did receive: follow that Viggle job (checked first)."""
        return _act(ctx, job_id, "resolve", viggle_job=viggle_job)

    @app.post("/api/v1/jobs/{job_id}/accept")
    def accept(job_id: int) -> dict[str, Any]:
        """A render held for review: publish it as done (nothing is paid again)."""
        return _act(ctx, job_id, "accept")


def _act(ctx: WebContext, job_id: int, action: str, **options: Any) -> dict[str, Any]:
    db = ctx.open_db(False)
    if db is None:
        raise HTTPException(404, f"there is no job {job_id}")
    try:
        job = ctx.act(db, action, job_id, options)
        return ctx.detail(job, JobStore(db).events(job_id))
    except ViggleWatchError as exc:  # the job is not in a state that allows it: say why
        status = 404 if "there is no job" in str(exc) else 409
        raise HTTPException(status, str(exc)) from None
    finally:
        db.close()
