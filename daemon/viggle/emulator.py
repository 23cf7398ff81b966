"""A local Viggle-compatible HTTP server for tests and the demo (on-demand renders only).

Speaks the legacy ``/api`` surface described in ``viggle-api.md``: ``POST /api/render`` with
uploaded files, ``GET /api/render/{job_id}``, and a signed ``/cdn/{job_id}.mp4`` download. The
job output is, for now, the uploaded driving video. ``GET /_sim/stats`` reports what clients did
(calls per route, submissions, and CDN requests that wrongly carried an ``Authorization``
header). State and the job lifecycle live in :mod:`daemon.viggle.emulator_state`.
"""

from __future__ import annotations

import functools
import hmac
import io
import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Final

import av
from PIL import Image
from werkzeug.exceptions import HTTPException, RequestedRangeNotSatisfiable
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from daemon.errors import ConfigError
from daemon.viggle.emulator_state import (
    MODE_FULL_PIPELINE,
    EmulatorState,
    EmulatorStats,
    JobStatus,
    iso_utc,
    status_document,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MODELS: Final = frozenset({"V4_Preview", "V3_Preview"})
DEFAULT_MODEL: Final = "V4_Preview"
IMAGE_FORMATS: Final = frozenset({"PNG", "JPEG"})
MAX_UPLOAD_BYTES: Final = 1024 * 1024 * 1024
"""Bound on a request body; the API's own limit is 500 MB per video (CS-ORIV-005)."""
UNSUPPORTED_FIELDS: Final = (
    "ref_image_url",
    "driving_video_url",
    "character_id",
    "scene_id",
    "character_mapping",
)
KEY_PREFIX: Final = "sk-"
CODE_INVALID: Final = "CS-UORC01-002"
CODE_BAD_KEY: Final = "CS-UORC01-007"
MISSING_KEY_DETAIL: Final = "API key required. Use Authorization: Bearer sk-xxx"
SHUTDOWN_POLL_S: Final = 0.05

# Endpoint name -> route pattern used in stats keys ("METHOD /pattern", ids left out).
_ROUTES: Final = {
    "render_create": "/api/render",
    "render_status": "/api/render",
    "cdn": "/cdn",
    "stats": "/_sim/stats",
}
_URL_MAP: Final = Map(
    [
        Rule("/api/render", methods=["POST"], endpoint="render_create"),
        Rule("/api/render/<job_id>", methods=["GET"], endpoint="render_status"),
        Rule("/cdn/<job_id>.mp4", methods=["GET"], endpoint="cdn"),
        Rule("/_sim/stats", methods=["GET"], endpoint="stats"),
    ],
    strict_slashes=False,
)


@dataclass
class EmulatorConfig:
    """How the emulator behaves: job latency, accepted keys, and its clock."""

    latency_s: float = 3.0
    keys: frozenset[str] | None = None
    """Accepted API keys; None accepts any key that starts with ``sk-``."""
    clock: Callable[[], float] = time.monotonic


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str, action: str) -> Response:
    detail = {"error_code": code, "message": message, "action": action}
    return _json({"detail": detail}, status)


def _image_is_valid(data: bytes) -> bool:
    """Return True if ``data`` decodes fully with Pillow as a PNG or JPEG image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            image.load()  # decodes every pixel: a truncated file fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return image_format in IMAGE_FORMATS


def _video_is_readable(data: bytes) -> bool:
    """Return True if PyAV opens ``data`` and decodes a first video frame from it."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                return False
            next(iter(container.decode(video=0)))
    except (av.error.FFmpegError, OSError, ValueError, StopIteration):
        return False
    return True


def _key_is_accepted(header: str, keys: frozenset[str] | None) -> bool:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
        return False
    if len(token) == len(KEY_PREFIX):
        return False
    return keys is None or token in keys


class Emulator:
    """The WSGI application: routes requests onto an :class:`EmulatorState`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._keys = config.keys
        self._state = EmulatorState(latency_s=config.latency_s, clock=config.clock)

    def stats(self) -> EmulatorStats:
        """Return a snapshot of the statistics served at ``GET /_sim/stats``."""
        return self._state.stats()

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        with Request(environ) as request:
            request.max_content_length = MAX_UPLOAD_BYTES
            response = self._dispatch(request)
            return response(environ, start_response)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        needs_key = request.path.startswith("/api/")
        try:
            endpoint, args = _URL_MAP.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            self._state.count_call(f"{request.method} <unmatched>")
            failure = self._auth_failure(request) if needs_key else None
            return _route_error(exc) if failure is None else failure
        self._state.count_call(f"{request.method} {_ROUTES[endpoint]}")
        if needs_key and endpoint != "render_status":
            failure = self._auth_failure(request)
            if failure is not None:
                return failure
        try:
            return self._handle(request, endpoint, str(args.get("job_id", "")))
        except HTTPException as exc:  # a body over the size limit, a malformed multipart...
            return _route_error(exc)

    def _handle(self, request: Request, endpoint: str, job_id: str) -> Response:
        if endpoint == "render_create":
            return self._render_create(request)
        if endpoint == "render_status":
            return self._render_status(request, job_id)
        if endpoint == "cdn":
            return self._cdn(request, job_id)
        return _json(self._state.stats())

    def _auth_failure(self, request: Request) -> Response | None:
        """Return the 401 for a missing or bad key, or None if the key is accepted."""
        header = request.headers.get("Authorization", "").strip()
        if not header:
            return _json({"detail": MISSING_KEY_DETAIL}, 401)
        if not _key_is_accepted(header, self._keys):
            return _error(
                401,
                CODE_BAD_KEY,
                "Invalid or expired API key",
                "Check your API key in the Viggle dashboard",
            )
        return None

    def _render_create(self, request: Request) -> Response:
        upload = _parse_render(request)
        if isinstance(upload, Response):
            return upload
        job = self._state.submit(
            model=upload.model,
            ref_image=upload.ref_image,
            driving_video=upload.driving_video,
            now=datetime.now(UTC),
        )
        return _json(
            {
                "job_id": job.job_id,
                "status": JobStatus.QUEUED.value,
                "mode": MODE_FULL_PIPELINE,
                "enqueued_at": iso_utc(job.created_at),
            }
        )

    def _render_status(self, request: Request, job_id: str) -> Response:
        job = self._state.job(job_id)
        if job is None:
            return _error(404, CODE_INVALID, "Job not found", "Check the job id")
        url_root = request.host_url.rstrip("/")
        progress = self._state.progress(job)
        return _json(status_document(job, progress, self._state.latency_s, url_root))

    def _cdn(self, request: Request, job_id: str) -> Response:
        if "Authorization" in request.headers:
            self._state.count_cdn_request_with_auth()
        job = self._state.job(job_id)
        if job is None or self._state.progress(job).status is not JobStatus.COMPLETE:
            return _error(404, CODE_INVALID, "File not found", "Check the job is complete")
        sig = request.args.get("sig", "")
        if not hmac.compare_digest(sig.encode(), job.cdn_sig.encode()):
            return _error(403, CODE_INVALID, "Invalid or expired signature", "Fetch a new URL")
        response = Response(job.output, mimetype="video/mp4")
        try:
            return response.make_conditional(
                request, accept_ranges=True, complete_length=len(job.output)
            )
        except RequestedRangeNotSatisfiable as exc:
            return _route_error(exc)


@dataclass(frozen=True, slots=True)
class _Upload:
    """An acceptable on-demand ``POST /api/render``."""

    model: str
    ref_image: bytes
    driving_video: bytes


def _parse_render(request: Request) -> _Upload | Response:
    """Return the upload in an acceptable ``POST /api/render``, or the 400 that rejects it."""
    unsupported = [name for name in UNSUPPORTED_FIELDS if request.form.get(name)]
    if unsupported:
        message = f"The emulator supports only on-demand uploads; got {', '.join(unsupported)}"
        return _error(400, CODE_INVALID, message, "Upload ref_image and driving_video")
    model = request.form.get("model") or DEFAULT_MODEL
    if model not in MODELS:
        message = f"Unknown model {model!r}; use V4_Preview or V3_Preview"
        return _error(400, CODE_INVALID, message, "Check your request parameters")
    image = request.files.get("ref_image")
    if image is None or not image.filename:
        return _error(400, "CS-ORIV-001", "Reference image required", "Upload ref_image")
    video = request.files.get("driving_video")
    if video is None or not video.filename:
        message = "Driving video required"
        return _error(400, "CS-ORIV-002", message, "Upload driving_video or provide scene_id")
    upload = _Upload(model=model, ref_image=image.read(), driving_video=video.read())
    if not _image_is_valid(upload.ref_image):
        message = "ref_image is not a readable PNG or JPEG image"
        return _error(400, CODE_INVALID, message, "Upload a PNG or JPEG image")
    if not _video_is_readable(upload.driving_video):
        return _error(400, "CS-ORIV-007", "Video unreadable", "Upload a valid MP4 video")
    return upload


def _route_error(exc: HTTPException) -> Response:
    """Return a werkzeug HTTP error (404, 405, 416, 413...) as a JSON ``detail`` object."""
    response = _error(exc.code or 500, CODE_INVALID, exc.name, "Check the request")
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow on 405, Content-Range on 416
    return response


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs no per-request lines (they would clutter the demo), and closes each connection.

    HTTP/1.0 (no keep-alive) lets ``stop()`` join every request thread promptly.
    """

    protocol_version = "HTTP/1.0"
    timeout = 30.0  # a stalled client cannot hold a request thread (or stop()) for longer

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RunningEmulator:
    """An emulator serving HTTP on a background thread; a context manager that stops it."""

    def __init__(self, emulator: Emulator, server: BaseWSGIServer, url: str) -> None:
        self.emulator = emulator
        self.url = url
        self._server = server
        # A short poll interval makes stop() return promptly (shutdown waits for one poll).
        serve_forever = functools.partial(server.serve_forever, poll_interval=SHUTDOWN_POLL_S)
        self._thread = threading.Thread(target=serve_forever, name="viggle-emulator", daemon=True)
        self._stopped = False

    def start(self) -> None:
        """Start serving on the background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wait for in-flight requests, and close the socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    config: EmulatorConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
) -> RunningEmulator:
    """Start an emulator on ``host:port`` (0 picks a free port) and return it running.

    Raises :class:`ConfigError` for a non-loopback ``host`` unless ``allow_remote`` is set:
    the emulator accepts any ``sk-`` key and serves uploads back, so it must not face a network.
    """
    if not allow_remote and not _is_loopback(host):
        raise ConfigError(f"refusing to serve the emulator on non-loopback host {host!r}")
    emulator = Emulator(config)
    server = make_server(
        host, port, emulator.wsgi_app, threaded=True, request_handler=_QuietRequestHandler
    )
    if isinstance(server, ThreadingMixIn):
        server.daemon_threads = False  # so server_close() joins the request threads
    url_host = f"[{host}]" if ":" in host else host
    running = RunningEmulator(emulator, server, f"http://{url_host}:{server.server_port}")
    running.start()
    return running
