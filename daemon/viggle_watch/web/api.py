"""The JSON API under ``/api/v1/`` (issue 18; docs/web.md), with ``/healthz`` and ``/metrics``,
as a FastAPI app in the service's process (imported only when ``web`` is configured). Its
OpenAPI document is at ``/api/v1/openapi.json``. Every answer is built by the same code as
``status --json`` and ``jobs list|show --json`` (``app.report``), from the job store.

The dashboard (``web.pages``) is served by the same app, behind the same door
(``web.login``), and shares its operations (``web.context``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from viggle_watch import __version__
from viggle_watch.store.pages import MAX_PAGE, JobQuery
from viggle_watch.store.states import State
from viggle_watch.web.context import WebContext, act, job_detail, jobs_page, set_paused
from viggle_watch.web.login import Sessions
from viggle_watch.web.login import install as install_login
from viggle_watch.web.pages import install as install_pages
from viggle_watch.web.session import session_key
from viggle_watch.web.stream import stream
from viggle_watch.web.submissions.routes import install as install_submissions
from viggle_watch.web.views import num


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(
        title="viggle-watch",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
    templates.env.filters["num"] = num
    sessions = Sessions(session_key(ctx.token, secrets.token_bytes(16)) if ctx.token else None)
    install_login(app, ctx, sessions, templates)  # first: the door of every request
    install_pages(app, ctx, sessions, templates)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), "static")
    _service_routes(app, ctx)
    _job_routes(app, ctx)
    _action_routes(app, ctx)
    install_submissions(app, ctx.submissions)
    return app


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
        return set_paused(ctx, paused=True, reason=reason)

    @app.post("/api/v1/resume")
    def resume() -> dict[str, Any]:
        """Lift a pause, as `viggle-watch resume` does."""
        return set_paused(ctx, paused=False, reason="")


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
        query = JobQuery(str(state) if state else None, rule, q, since, until, cursor, limit)
        return jobs_page(ctx, query)

    @app.get("/api/v1/jobs/{job_id}")
    def job(job_id: int) -> dict[str, Any]:
        """One job, as `jobs show --json` shows it: inputs, options, every transition."""
        return job_detail(ctx, job_id)


def _action_routes(app: FastAPI, ctx: WebContext) -> None:
    """What `viggle-watch jobs retry|cancel|resolve|accept` does, over HTTP (token)."""

    @app.post("/api/v1/jobs/{job_id}/retry")
    def retry(job_id: int, force: bool = False) -> dict[str, Any]:
        """Render again (paid, on purpose); ``force`` also for an uncertain job."""
        return act(ctx, job_id, "retry", force=force)

    @app.post("/api/v1/jobs/{job_id}/cancel")
    def cancel(job_id: int) -> dict[str, Any]:
        """Stop the job; a render at Viggle is cancelled there too (credits refunded)."""
        return act(ctx, job_id, "cancel")

    @app.post("/api/v1/jobs/{job_id}/resolve")
    def resolve(job_id: int, viggle_job: str) -> dict[str, Any]:
        """An uncertain job that Viggle did receive: follow that Viggle job (checked first)."""
        return act(ctx, job_id, "resolve", viggle_job=viggle_job)

    @app.post("/api/v1/jobs/{job_id}/accept")
    def accept(job_id: int) -> dict[str, Any]:
        """A render held for review: publish it as done (nothing is paid again)."""
        return act(ctx, job_id, "accept")
