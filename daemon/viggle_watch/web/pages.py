"""The dashboard (issue 18; docs/web.md#the-dashboard): server-rendered pages (Jinja2) made live
by htmx and its SSE extension, both vendored under ``static/`` (no CDN: it works on a LAN with
no internet). Every part that changes listens to ``/ui/changes`` (the service's events, each
named ``changed``) and fetches itself again. Every action is the JSON API's own operation
(``web.context``), behind the same door (``web.login``: session cookie + CSRF token)."""

from __future__ import annotations

import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Final, Protocol

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from viggle_watch.clock import day_of
from viggle_watch.outputs.naming import poster_paths
from viggle_watch.render.actions import offered
from viggle_watch.store.pages import JobQuery, page, spend_by_day
from viggle_watch.store.states import State
from viggle_watch.web import views
from viggle_watch.web.context import WebContext, act, job_detail, jobs_page, set_paused
from viggle_watch.web.folders import read_sidecar, refused_inputs
from viggle_watch.web.liveness import changes, marker
from viggle_watch.web.login import Form, Sessions, small_form
from viggle_watch.web.media import install as install_media

PER_PAGE: Final = 50
FILTERS: Final = ("state", "rule", "q", "since", "until", "cursor")  # what /jobs takes
ACTIONS: Final = ("retry", "cancel", "resolve", "accept")


def install(app: FastAPI, ctx: WebContext, sessions: Sessions, pages: Jinja2Templates) -> None:
    def show(request: Request, name: str, data: dict[str, Any], status: int = 200) -> Response:
        common = sessions.common(request, ctx.token)
        return pages.TemplateResponse(request, name, common | data, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def said(request: Request, exc: StarletteHTTPException) -> Response:
        """A person at a page gets a page saying what went wrong; scripts get JSON."""
        path = request.url.path
        if request.method != "GET" or path.startswith(("/api/", "/ui/", "/metrics", "/healthz")):
            return await http_exception_handler(request, exc)
        return show(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            exc.status_code,
        )

    _overview(app, ctx, show)
    _jobs(app, ctx, show)
    _actions(app, ctx, show)
    install_media(app, ctx)

    def read_marker() -> Hashable:
        db = ctx.open_db(True)
        if db is None:
            return None
        try:
            return marker(db)
        finally:
            db.close()

    @app.get("/ui/changes", include_in_schema=False)
    def live(request: Request) -> StreamingResponse:
        """``changed``, whenever what a page shows may have moved (``web.liveness``)."""
        return StreamingResponse(
            changes(request, ctx.watch, read_marker),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


class Show(Protocol):
    def __call__(
        self, request: Request, name: str, data: dict[str, Any], status: int = 200
    ) -> Response: ...


def overview_data(ctx: WebContext) -> dict[str, Any]:
    """The overview: the status as `status --json` has it, renders in flight, the chart."""
    status = ctx.status()
    now = time.time()
    today = day_of(now)
    moving: list[dict[str, Any]] = []
    rows: list[tuple[str, str, float]] = []
    db = ctx.open_db(True)
    if db is not None:
        try:
            for state in views.MOVING:
                moving += [ctx.summary(j, "", now) for j in page(db, JobQuery(state=str(state)))]
            rows = spend_by_day(db, views.days_back(today)[0])
        finally:
            db.close()
    credits = status["credits"]
    waiting = views.settling_in([w["path"] for w in status["watch"]], ctx.settling())
    return {
        "settling": waiting,
        "status": status,
        "tiles": views.tiles(status["counts"]),
        "moving": sorted(moving, key=lambda j: j["id"]),
        "chart": views.chart(rows, today),
        "share": views.budget_share(credits.get("today"), credits.get("daily_cap")),
        "paused": views.pause_of(status.get("held", [])),
        "rules": ctx.current().rules,
        "hints": views.DROP_HINTS,
        "attention": len(status["uncertain"]) + len(status.get("review", [])),
    }


def _overview(app: FastAPI, ctx: WebContext, show: Show) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> Response:
        return show(request, "overview.html", overview_data(ctx))

    @app.get("/ui/overview", response_class=HTMLResponse, include_in_schema=False)
    def overview_live(request: Request) -> Response:
        return show(request, "_overview_live.html", overview_data(ctx))

    @app.get("/attention", response_class=HTMLResponse, include_in_schema=False)
    def attention(request: Request) -> Response:
        return show(request, "attention.html", _attention(ctx))

    @app.get("/ui/attention", response_class=HTMLResponse, include_in_schema=False)
    def attention_live(request: Request) -> Response:
        return show(request, "_attention_live.html", _attention(ctx))


def _attention(ctx: WebContext) -> dict[str, Any]:
    """What needs a person: uncertain and review jobs, failed jobs, refused inputs."""
    status = ctx.status()
    failed = jobs_page(ctx, JobQuery(state=str(State.FAILED), limit=PER_PAGE))["jobs"]
    return {
        "uncertain": status["uncertain"],
        "review": status.get("review", []),
        "failed": failed,
        "refused": refused_inputs(ctx.current()),
        "per_page": PER_PAGE,
        "offer": lambda state: offered(State(state)),
    }


def _query(request: Request) -> tuple[JobQuery, dict[str, str]]:
    """The jobs list's filters from the query string (dates as YYYY-MM-DD, UTC)."""
    given = {k: v.strip() for k, v in request.query_params.items() if k in FILTERS and v.strip()}
    state = given.get("state")
    if state is not None and state not in {str(s) for s in State}:
        raise HTTPException(422, f"there is no state {state!r}")
    try:
        since = views.epoch_of(given["since"]) if "since" in given else None
        until = views.epoch_of(given["until"], end=True) if "until" in given else None
        cursor = int(given["cursor"]) if "cursor" in given else None
    except ValueError as exc:
        raise HTTPException(422, f"bad filter: {exc}") from None
    query = JobQuery(state, given.get("rule"), given.get("q"), since, until, cursor, PER_PAGE)
    return query, given


def _jobs(app: FastAPI, ctx: WebContext, show: Show) -> None:
    def listing(request: Request) -> dict[str, Any]:
        query, given = _query(request)
        found = jobs_page(ctx, query)
        following = {k: v for k, v in given.items() if k != "cursor"}
        return {
            "jobs": found["jobs"],
            "next": found["next"],
            "given": following,
            "states": [str(s) for s in views.STATE_ORDER],
            "rule_names": [r.name for r in ctx.current().rules],
            "first_page": query.before_id is None,
            "offered": {j["id"]: offered(State(j["state"])) for j in found["jobs"]},
        }

    @app.get("/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs(request: Request) -> Response:
        return show(request, "jobs.html", listing(request))

    @app.get("/ui/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs_live(request: Request) -> Response:
        return show(request, "_jobs_table.html", listing(request))

    def one(job_id: int) -> dict[str, Any]:
        job = job_detail(ctx, job_id)
        video = Path(job["output"]) if job["output"] else None
        return {
            "job": job,
            "offered": offered(State(job["state"])),
            "moving": job["state"] in views.MOVING,
            "sidecar": read_sidecar(video),
            "has_video": video is not None and video.is_file(),
            "has_poster": video is not None and poster_paths(video)[0].is_file(),
        }

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job(request: Request, job_id: int) -> Response:
        return show(request, "job.html", one(job_id))

    @app.get("/ui/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_live(request: Request, job_id: int) -> Response:
        return show(request, "_job_live.html", one(job_id))


def _actions(app: FastAPI, ctx: WebContext, show: Show) -> None:
    def told(request: Request, words: str, ok: bool, status: int = 200) -> Response:
        answer = show(request, "_flash.html", {"words": words, "ok": ok}, status)
        answer.headers["HX-Trigger"] = "acted"  # the live parts fetch themselves again
        answer.headers["HX-Retarget"] = "#flash"  # the words go above the page, whoever asked
        answer.headers["HX-Reswap"] = "innerHTML"
        return answer

    @app.post("/ui/pause", include_in_schema=False)
    async def pause(request: Request) -> Response:
        form = await small_form(request)
        reason = form.one("reason") or "paused from the dashboard"
        set_paused(ctx, paused=True, reason=reason)
        return told(request, "Paused: nothing new is sent to Viggle until you resume.", True)

    @app.post("/ui/resume", include_in_schema=False)
    def resume(request: Request) -> Response:
        set_paused(ctx, paused=False, reason="")
        return told(request, "Resumed.", True)

    @app.post("/ui/jobs/{job_id}/{action}", include_in_schema=False)
    async def one(request: Request, job_id: int, action: str) -> Response:
        form = await small_form(request)
        try:
            done = _do(ctx, job_id, action, form)
        except HTTPException as exc:
            return told(request, str(exc.detail), False, 200)
        return told(request, f"Job {job_id}: {action} done; it is {done['state']} now.", True)

    @app.post("/ui/bulk", include_in_schema=False)
    async def bulk(request: Request) -> Response:
        form = await small_form(request)
        action = form.one("action")
        ids = sorted({int(v) for v in form.all("ids") if v.isdigit()})
        if action not in ("retry", "cancel", "accept") or not ids:
            return told(request, "Pick jobs and an action (retry, cancel or accept).", False)
        failures: list[str] = []
        for job_id in ids:
            try:
                _do(ctx, job_id, action, form)
            except HTTPException as exc:
                failures.append(f"job {job_id}: {exc.detail}")
        words = f"{action}: {len(ids) - len(failures)} of {len(ids)} done."
        return told(request, " ".join([words, *failures]), not failures)


def _do(ctx: WebContext, job_id: int, action: str, form: Form) -> dict[str, Any]:
    """One action from a form, by the JSON API's own operation."""
    if action not in ACTIONS:
        raise HTTPException(404, f"there is no action {action!r}")
    if action == "retry":
        return act(ctx, job_id, "retry", force=form.one("force") == "yes")
    if action == "resolve":
        viggle_job = form.one("viggle_job").strip()
        if not viggle_job:
            raise HTTPException(422, "give the Viggle job id you found on Viggle's dashboard")
        return act(ctx, job_id, "resolve", viggle_job=viggle_job)
    return act(ctx, job_id, action)
