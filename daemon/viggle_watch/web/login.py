"""Who may do what, at the door of every request (issue 18; docs/web.md#security): the Host
check, the bearer token for scripts, and for the dashboard a sign-in form that sets a session
cookie, a CSRF token on every change, sign-out and a limit on failed sign-ins. The rules are
pure (``web.guard``, ``web.session``); this is the thin part around them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, quote

import structlog
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from viggle_watch import __version__
from viggle_watch.serving import is_loopback_host
from viggle_watch.web import session as s
from viggle_watch.web.context import WebContext
from viggle_watch.web.guard import READ_METHODS, bearer, host_allowed, judge, named_elsewhere

log = structlog.get_logger()
WORDS: Final = {
    "bad_host": (421, "this listener does not answer to that Host (web.hosts names others)"),
    "no_token": (401, "this needs the token from web.token_file: Authorization: Bearer TOKEN"),
    "bad_token": (401, "that is not the token in web.token_file"),
    "read_only": (403, "read-only: no web.token_file is configured, so nothing can be changed"),
    "cross_site": (403, "refused: this request came from another site's page"),
    "no_csrf": (403, "refused: the page's CSRF token is missing or stale; reload the page"),
}
FORM_MAX: Final = 16 * 1024
PUBLIC: Final = ("/login", "/static/")  # the sign-in page and the page's own assets
MACHINE: Final = ("/api/", "/metrics", "/healthz")  # answered in JSON/text, never redirected


@dataclass(slots=True)
class Sessions:
    """The dashboard's sessions: the key (None without a token: nobody can sign in), the
    signed-out nonces and the failed sign-ins."""

    key: bytes | None
    revoked: s.Revoked = field(default_factory=s.Revoked)
    attempts: s.Attempts = field(default_factory=s.Attempts)

    def nonce(self, request: Request, now: float) -> str | None:
        if self.key is None:
            return None
        return s.verify(self.key, request.cookies.get(s.COOKIE), now, self.revoked.snapshot())

    def csrf_ok(self, request: Request, nonce: str) -> bool:
        """Whether a change carries its session's CSRF token (a page of ours sent it)."""
        given = request.headers.get(s.CSRF_HEADER)
        return self.key is not None and s.csrf_ok(self.key, nonce, given)

    def common(self, request: Request, token: str | None) -> dict[str, Any]:
        """What every page shows: who is signed in, whether anything can be changed, the CSRF
        token its changes send back."""
        signed_in = self.nonce(request, time.time()) is not None
        return {
            "version": __version__,
            "signed_in": signed_in,
            "can_change": token is not None and signed_in,
            "has_token": token is not None,
            "csrf": self.csrf(request),
            "path": request.url.path,
        }

    def csrf(self, request: Request) -> str:
        """The CSRF token for a page (empty when not signed in: nothing to protect)."""
        nonce = self.nonce(request, time.time())
        return s.csrf_token(self.key, nonce) if self.key and nonce else ""


def install(app: FastAPI, ctx: WebContext, sessions: Sessions, pages: Jinja2Templates) -> None:
    _door(app, ctx, sessions)
    _sign_in(app, ctx, sessions, pages)


def _door(app: FastAPI, ctx: WebContext, sessions: Sessions) -> None:
    settings = ctx.config.web
    assert settings is not None
    listen = settings.address

    def verdict(request: Request) -> str:
        """The Host, then where a change comes from, then who asks."""
        host = request.headers.get("host")
        if not host_allowed(host, listen, settings.hosts):
            return "bad_host"
        change = request.method.upper() not in READ_METHODS
        fetch_site = request.headers.get("sec-fetch-site")
        if change and s.cross_site(request.headers.get("origin"), fetch_site, host):
            return "cross_site"
        if request.url.path.startswith(PUBLIC):
            return "ok"  # the sign-in form limits its own failures
        given = bearer(request.headers.get("authorization"))
        nonce = sessions.nonce(request, time.time())
        scripted = given is not None and ctx.token is not None and s.same(given, ctx.token)
        if change and nonce is not None and not scripted and not sessions.csrf_ok(request, nonce):
            return "no_csrf"  # the cookie alone changes nothing: a page of ours sends the token
        return judge(
            request.method,
            token=ctx.token,
            given=given,
            open_reads=settings.open_reads,
            loopback=is_loopback_host(listen[0]) and not named_elsewhere(host, settings.hosts),
            signed_in=nonce is not None,
        )

    @app.middleware("http")
    async def guarded(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Before any route (docs/web.md#security)."""
        said = verdict(request)
        if said == "ok":
            return await call_next(request)
        path = request.url.path
        person = request.method.upper() in READ_METHODS and not path.startswith(MACHINE)
        if said == "no_token" and person:  # a person at a page: to the sign-in form
            return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
        return refused(said)


def _sign_in(app: FastAPI, ctx: WebContext, sessions: Sessions, pages: Jinja2Templates) -> None:
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> Response:
        return pages.TemplateResponse(
            request,
            "login.html",
            sessions.common(request, ctx.token) | {"next": _local(next), "error": ""},
        )

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        now = time.time()
        form = await small_form(request)
        next_page = _local(form.one("next") or "/")
        wait = sessions.attempts.wait_s(client, now)
        error = ""
        if sessions.key is None or ctx.token is None:
            error = "No web.token_file is configured: the dashboard is read-only."
        elif wait > 0:
            error = f"Too many failed sign-ins: try again in {int(wait) + 1} s."
        elif not s.same(form.one("token").strip(), ctx.token):
            sessions.attempts.failed(client, now)
            log.warning("web_sign_in_failed", client=client)
            error = "That is not the token in web.token_file."
        if error:
            status = 429 if wait > 0 else 401 if sessions.key else 403
            return pages.TemplateResponse(
                request,
                "login.html",
                sessions.common(request, ctx.token) | {"next": next_page, "error": error},
                status_code=status,
            )
        assert sessions.key is not None
        sessions.attempts.succeeded(client)
        log.info("web_signed_in", client=client)
        answer = RedirectResponse(next_page, status_code=303)
        answer.set_cookie(
            s.COOKIE,
            s.issue(sessions.key, now),
            max_age=int(s.SESSION_S),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return answer

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        cookie = request.cookies.get(s.COOKIE)
        nonce = sessions.nonce(request, time.time())
        if cookie and nonce:
            sessions.revoked.add(nonce, s.expiry(cookie), time.time())
        if request.headers.get("hx-request"):  # htmx: it goes to the page itself
            answer: Response = Response(status_code=204, headers={"HX-Redirect": "/"})
        else:
            answer = RedirectResponse("/", status_code=303)
        answer.delete_cookie(s.COOKIE)
        return answer


@dataclass(frozen=True, slots=True)
class Form:
    fields: dict[str, list[str]]

    def one(self, name: str) -> str:
        """The field's (last) value, "" when absent."""
        return self.fields.get(name, [""])[-1]

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def small_form(request: Request) -> Form:
    """A form a page of ours sends (URL-encoded, a few fields): read whole only when it is
    small — a body larger than ``FORM_MAX`` or of another kind is refused before it is read,
    so no upload is spooled anywhere on the way (uploads go by way of submissions)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    size = request.headers.get("content-length")
    if kind not in ("", "application/x-www-form-urlencoded"):
        raise HTTPException(415, "this takes a URL-encoded form")
    if size is None or not size.isdigit() or int(size) > FORM_MAX:
        raise HTTPException(413, f"a form here is at most {FORM_MAX} bytes, with its length")
    body = await request.body()
    if len(body) > FORM_MAX:
        raise HTTPException(413, f"a form here is at most {FORM_MAX} bytes")
    return Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))


def refused(verdict: str) -> JSONResponse:
    status, words = WORDS[verdict]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": words}, status_code=status, headers=headers)


def _local(target: str) -> str:
    """Where to go after signing in: only a path on this listener (never another site)."""
    return target if target.startswith("/") and target[1:2] not in ("/", "\\") else "/"
