"""A local Viggle-compatible HTTP server for tests, the demo and ``viggle-watch sim``.

Speaks the legacy ``/api`` surface of docs/viggle-api.md: renders in all four input sets with
status and cancel, characters, scenes, template import and credits, with per-key balances,
real media validation, generated result videos on a signed ``/cdn`` route, and injectable
faults (:class:`Faults`). ``/_sim/stats``, ``/_sim/reset``, ``/_sim/faults`` and
``/_sim/files`` let tests observe and steer it. Modules:

- ``emulator`` (this one, the only werkzeug import): the WSGI edge :class:`Emulator`, the
  server thread, :func:`serve`, :class:`RunningEmulator`;
- ``emulator_app``: the emulated service (auth, faults, /_sim); ``emulator_routes``: the route
  table; ``emulator_render`` and ``emulator_asset_routes``: the handlers; ``emulator_cdn``:
  downloads; ``emulator_replies`` and ``emulator_wire``: answers as values;
- ``emulator_state``, ``emulator_stats``, ``emulator_jobs``, ``emulator_assets``: state and
  pure lifecycles;
- ``emulator_inputs``: upload/URL validation; ``emulator_templates``: the template table;
- ``emulator_faults``, ``emulator_config``: configuration; ``emulator_cli``: the CLI flags.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable, Iterator
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Final, NoReturn

from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from viggle_watch.emulator.app import EmulatedApi, key_fingerprint, route_rejection
from viggle_watch.emulator.config import EmulatorConfig
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.emulator.wire import HttpRequest, HttpResponse, Upload
from viggle_watch.errors import ConfigError
from viggle_watch.serving import BackgroundServer, is_loopback_host

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "EmulatedApi",
    "Emulator",
    "EmulatorConfig",
    "Faults",
    "RunningEmulator",
    "key_fingerprint",
    "serve",
]

SHUTDOWN_POLL_S: Final = 0.05
MAX_UPLOAD_BYTES: Final = 1024 * 1024 * 1024
"""Bound on a request body; the API's own limit is 500 MB per video (CS-ORIV-005)."""
_FORM_TYPES: Final = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


class DroppedConnectionError(ConnectionError):
    """Raised out of the WSGI app after :func:`_drop_connection`. werkzeug's dev server takes a
    ``ConnectionError`` for a client that went away: nothing more is written, nothing logged."""


def _drop_connection(environ: WSGIEnvironment) -> NoReturn:
    """Shut the request's socket both ways so no HTTP response follows, and raise.

    The client sees the connection close without an answer (or mid-body). The server's own
    request teardown closes the socket right after.
    """
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise DroppedConnectionError("connection dropped on purpose (fault injection)")


def _read(request: Request) -> HttpRequest:
    """Read a request completely into a plain value. Raises werkzeug's HTTPException (413,
    400) for a body over the limit or a malformed form."""
    form = dict(request.form.items())
    files = {
        name: Upload(upload.filename or "", upload.read()) for name, upload in request.files.items()
    }
    body = b"" if request.mimetype in _FORM_TYPES else request.get_data()
    return HttpRequest(
        method=request.method,
        path=request.path,
        url_root=request.host_url.rstrip("/"),
        host=request.host,
        server_port=int(request.environ.get("SERVER_PORT") or 0),
        headers={name.lower(): value for name, value in request.headers.items()},
        query=request.args.to_dict(),
        form=form,
        files=files,
        body=body,
    )


def _cut(body: bytes, cut_after: int, environ: WSGIEnvironment) -> Iterator[bytes]:
    yield body[:cut_after]
    _drop_connection(environ)


def _wsgi_response(answer: HttpResponse, environ: WSGIEnvironment) -> Response:
    if answer.drop:
        _drop_connection(environ)
    if answer.cut_after is None:
        body: bytes | Iterator[bytes] = answer.body
    else:
        body = _cut(answer.body, answer.cut_after, environ)
    response = Response(body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response.headers[name] = value
    response.headers["Content-Length"] = str(len(answer.body))
    return response


class Emulator:
    """The WSGI application: the HTTP edge of an :class:`EmulatedApi`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._api = EmulatedApi(config)

    def stats(self) -> EmulatorStats:
        """Return a snapshot of the statistics served at ``GET /_sim/stats``."""
        return self._api.stats()

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._api.faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults in force (takes effect with the next request)."""
        self._api.set_faults(faults)

    def reset(self) -> None:
        """Forget all jobs, assets, balances, files and stats (``POST /_sim/reset``)."""
        self._api.reset()

    def put_file(self, name: str, data: bytes) -> str:
        """Host ``data`` for URL inputs; return its path (``/_sim/files/{name}``)."""
        return self._api.put_file(name, data)

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        with Request(environ) as request:
            request.max_content_length = MAX_UPLOAD_BYTES
            try:
                plain = _read(request)
            except HTTPException as exc:  # a body over the size limit, a malformed form...
                partial = HttpRequest(request.method, request.path, "", request.host, 0)
                rejection = route_rejection(exc.code or 400, exc.name)
                answer = self._api.error(partial, rejection)
            else:
                answer = self._api.handle(plain)
            return _wsgi_response(answer, environ)(environ, start_response)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs no per-request lines (they would clutter the demo), and closes each connection.

    HTTP/1.0 (no keep-alive) lets ``stop()`` join every request thread promptly.
    """

    protocol_version = "HTTP/1.0"
    timeout = 30.0  # a stalled client cannot hold a request thread (or stop()) for longer

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests."""


class RunningEmulator(BackgroundServer):
    """An emulator serving HTTP on a background thread; a context manager that stops it."""

    def __init__(self, emulator: Emulator, server: BaseWSGIServer, url: str) -> None:
        super().__init__(server, name="viggle-emulator", poll_s=SHUTDOWN_POLL_S)
        self.emulator = emulator
        self.url = url

    def host_file(self, name: str, data: bytes) -> str:
        """Host ``data`` on the emulator; return the URL to pass as a ``*_url`` input."""
        return f"{self.url}{self.emulator.put_file(name, data)}"

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
    Also raises it for a bad templates file.
    """
    if not allow_remote and not is_loopback_host(host):
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
