"""The emulated Viggle service: routing, auth, fault injection and the ``/_sim`` routes.

Takes plain :class:`HttpRequest` values and returns :class:`HttpResponse` values (the WSGI edge
is ``emulator.py``). Order of work for an ``/api`` request: count the call;
``request_delay_s``; maybe a 429/5xx (not acted on); auth (except the status GET); the handler;
for a successful POST maybe drop the connection (acted on, no answer); render the reply in the
current or legacy dialect. ``/cdn`` requests get the download faults; ``/_sim`` none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Mapping
from typing import Final

from viggle_watch.emulator import asset_routes as assets
from viggle_watch.emulator import render as render
from viggle_watch.emulator.cdn import Cdn
from viggle_watch.emulator.config import EmulatorConfig
from viggle_watch.emulator.context import FILES_PREFIX, Backend, Call, Handler
from viggle_watch.emulator.drift import drifted
from viggle_watch.emulator.faults import FaultInjector, Faults, updated_faults
from viggle_watch.emulator.replies import (
    CODE_BAD_KEY,
    CODE_INVALID,
    CODE_NO_KEY,
    MISSING_KEY_DETAIL,
    Rejection,
    Reply,
    api_response,
    bad_gateway,
    error_body,
)
from viggle_watch.emulator.routes import Unmatched, match
from viggle_watch.emulator.state import EmulatorState
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.emulator.templates import load_templates
from viggle_watch.emulator.wire import DROPPED, HttpRequest, HttpResponse, json_response
from viggle_watch.errors import ConfigError

KEY_PREFIX: Final = "sk-"
FINGERPRINT_HEX: Final = 12
API_PREFIX: Final = "/api/"

_API_HANDLERS: Final[Mapping[str, Handler]] = {
    "render_create": render.render_create,
    "render_status": render.render_status,
    "render_cancel": render.render_cancel,
    "character_create": assets.character_create,
    "character_list": assets.character_list,
    "character_get": assets.character_get,
    "character_delete": assets.character_delete,
    "scene_create": assets.scene_create,
    "scene_import": assets.scene_import,
    "scene_list": assets.scene_list,
    "scene_get": assets.scene_get,
    "scene_delete": assets.scene_delete,
    "credits": assets.credits,
}
_NO_KEY_NEEDED: Final = frozenset({"render_status"})


def key_fingerprint(key: str) -> str:
    """What the emulator keeps of an API key: the first 12 hex digits of its sha256."""
    return hashlib.sha256(key.encode()).hexdigest()[:FINGERPRINT_HEX]


def _bearer_key(header: str) -> str | None:
    """The ``sk-...`` token of a ``Bearer`` Authorization header, or None."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
        return None
    return token if len(token) > len(KEY_PREFIX) else None


def route_rejection(status: int, message: str, allowed: tuple[str, ...] = ()) -> Rejection:
    """An HTTP-level error (404, 405, 413, a malformed body...) as a ``detail`` object."""
    headers = (("Allow", ", ".join(allowed)),) if allowed else ()
    return Rejection(status, CODE_INVALID, message, "Check the request", headers=headers)


class EmulatedApi:
    """The emulated service behind the HTTP edge; thread-safe."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._keys = config.keys
        self._sleep: Callable[[float], None] = config.sleep
        state = EmulatorState(
            latency_s=config.latency_s,
            clock=config.clock,
            balance=config.balance,
            asset_delay_s=config.asset_delay_s,
        )
        injector = FaultInjector(config.faults, config.seed)
        self._backend = Backend(
            state=state,
            injector=injector,
            cdn=Cdn(state, injector, secrets.token_bytes(32)),
            templates=load_templates(config.templates_path),
            latency_s=config.latency_s,
        )

    def stats(self) -> EmulatorStats:
        """A snapshot of the statistics served at ``GET /_sim/stats``."""
        return self._backend.state.stats()

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._backend.injector.faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults in force (takes effect with the next request)."""
        self._backend.injector.set(faults)

    def reset(self) -> None:
        """Forget all jobs, assets, balances, files and stats; restart the dice. Keep faults."""
        self._backend.state.reset()
        self._backend.injector.reseed()

    def put_file(self, name: str, data: bytes) -> str:
        """Host ``data`` for URL inputs; return its path (``/_sim/files/{name}``)."""
        self._backend.state.put_file(name, data)
        return f"{FILES_PREFIX}{name}"

    def error(self, request: HttpRequest, rejection: Rejection) -> HttpResponse:
        """An error found at the edge (body too large, malformed form), counted and shaped."""
        self._backend.state.count_call(f"{request.method} <unreadable>")
        legacy = request.path.startswith(API_PREFIX) and self._backend.legacy
        return api_response(rejection, legacy=legacy)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request."""
        state = self._backend.state
        found = match(request.method, request.path)
        if isinstance(found, Unmatched):
            state.count_call(f"{request.method} <unmatched>")
            return self._unmatched(request, found)
        route, args = found
        state.count_call(route.stats_key)
        if route.endpoint.startswith("sim_"):
            return self._sim(request, route.endpoint, args)
        delay_s = self._backend.injector.faults.request_delay_s
        if delay_s > 0:
            self._sleep(delay_s)
        if route.endpoint == "cdn":
            return self._backend.cdn.respond(request, args["name"])
        return self._api(request, route.endpoint, args)

    def _unmatched(self, request: HttpRequest, unmatched: Unmatched) -> HttpResponse:
        """404/405; under /api a missing or bad key is reported first."""
        is_api = request.path.startswith(API_PREFIX)
        auth = self._authenticate(request) if is_api else None
        message = "Method Not Allowed" if unmatched.allowed else "Not Found"
        rejection = route_rejection(unmatched.status, message, unmatched.allowed)
        failure = auth if isinstance(auth, Rejection) else rejection
        return api_response(failure, legacy=is_api and self._backend.legacy)

    def _api(self, request: HttpRequest, endpoint: str, args: dict[str, str]) -> HttpResponse:
        backend = self._backend
        gateway = backend.injector.gateway_error()
        if gateway is not None:
            return self._gateway_error(gateway)
        fingerprint = None
        if endpoint not in _NO_KEY_NEEDED:
            auth = self._authenticate(request)
            if isinstance(auth, Rejection):
                return api_response(auth, legacy=backend.legacy)
            fingerprint = auth
            backend.state.touch(fingerprint)
        result = _API_HANDLERS[endpoint](backend, Call(request, args, fingerprint))
        posted = request.method == "POST" and isinstance(result, Reply)
        if posted and backend.injector.drop_after_read():
            # acted on (created, charged) and then the connection dies: "outcome unknown"
            backend.state.count_fault("drop_after_read")
            return DROPPED
        drift = backend.injector.faults.drift
        if isinstance(result, Reply) and drift != "none":
            answer = drifted(drift, endpoint, result.body, result.status)
            if answer is not None:
                backend.state.count_fault(f"drift:{drift}")
                return answer
        return api_response(result, legacy=backend.legacy)

    def _gateway_error(self, status: int) -> HttpResponse:
        faults = self._backend.injector.faults
        self._backend.state.count_fault("429" if status == 429 else "5xx")
        if status in (502, 503):
            return bad_gateway(status)
        if status == 500:
            rejection = Rejection(500, None, "Internal Server Error", shape="string")
            return api_response(rejection, legacy=faults.legacy)
        headers: tuple[tuple[str, str], ...] = ()
        if faults.retry_after_s is not None:
            headers = (("Retry-After", str(math.ceil(faults.retry_after_s))),)
        rejection = Rejection(
            429, None, "Too many requests", "Retry later", shape="string", headers=headers
        )
        return api_response(rejection, legacy=faults.legacy)

    def _authenticate(self, request: HttpRequest) -> str | Rejection:
        """The caller's key fingerprint, or the 401 for a missing or bad key."""
        header = (request.header("Authorization") or "").strip()
        if not header:
            return Rejection(401, CODE_NO_KEY, MISSING_KEY_DETAIL, "Send your key", shape="string")
        key = _bearer_key(header)
        revoked = self._backend.injector.faults.refuse_keys
        if key is None or revoked or (self._keys is not None and key not in self._keys):
            action = "Check your API key in the Viggle dashboard"
            return Rejection(401, CODE_BAD_KEY, "Invalid or expired API key", action)
        return key_fingerprint(key)

    def _sim(self, request: HttpRequest, endpoint: str, args: Mapping[str, str]) -> HttpResponse:
        state = self._backend.state
        if endpoint == "sim_stats":
            return json_response(state.stats())
        if endpoint == "sim_reset":
            self.reset()
            return json_response({"reset": True})
        if endpoint == "sim_faults":
            return self._sim_faults(request)
        if endpoint == "sim_drift":  # {"drift": NAME}: the same as a POST to /_sim/faults
            return self._sim_faults(request)
        name = args["name"]
        if request.method == "PUT":
            path = self.put_file(name, request.body)
            return json_response({"url": f"{request.url_root}{path}"}, 201)
        data = state.file(name)
        if data is None:
            rejection = Rejection(404, CODE_INVALID, f"No hosted file {name!r}", "PUT it first")
            return json_response(error_body(rejection, legacy=False), 404)
        return HttpResponse(200, data, "application/octet-stream")

    def _sim_faults(self, request: HttpRequest) -> HttpResponse:
        """GET: the faults in force. POST: change the fields in the JSON object sent."""
        if request.method == "POST":
            try:
                body = request.body
                if not body and len(request.form) == 1:  # `curl -d '{…}'` sends it as a form
                    body = "".join(f"{k}{v}" for k, v in request.form.items()).encode()
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ConfigError("the body must be a JSON object of Faults fields")
                self.set_faults(updated_faults(self.faults, changes))
            except (ValueError, ConfigError) as exc:
                fields = ", ".join(f.name for f in dataclasses.fields(Faults))
                rejection = Rejection(400, CODE_INVALID, str(exc), f"Faults fields: {fields}")
                return json_response(error_body(rejection, legacy=False), 400)
        return json_response(self.faults.as_json())
