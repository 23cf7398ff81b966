"""The only prometheus_client import: counters, histograms, scrape-time gauges and /healthz.

Opt-in (``metrics.listen``). The listener binds loopback unless told otherwise: the metrics
carry watch-folder paths, and /healthz needs no one but the local supervisor.
"""

from __future__ import annotations

import functools
import socket
import socketserver
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, TypeVar

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from viggle_watch.errors import ConfigError
from viggle_watch.serving import BackgroundServer
from viggle_watch.serving import parse_listen as serving_listen
from viggle_watch.store.states import State

__all__ = [
    "API_ERROR_KINDS",
    "Metrics",
    "RunningMetrics",
    "healthy",
    "parse_listen",
    "serve_metrics",
    "timed",
]

log = structlog.get_logger()

# Label values of viggle_watch_api_errors_total: an error counts under the nearest of these
# classes in its MRO (FastUnavailableError → RejectedError); anything else is "other".
API_ERROR_KINDS: Final = (
    "NotSentError",
    "ThrottledError",
    "TransientError",
    "RejectedError",
    "AuthError",
    "CreditsError",
    "NotFoundError",
    "OutcomeUnknownError",
    "DownloadError",
)
OTHER_KIND: Final = "other"
POLL_BUCKETS_S: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DOWNLOAD_BUCKETS_S: Final = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
SHUTDOWN_POLL_S: Final = 0.1  # serve_forever's poll: how long stop() may wait
REQUEST_TIMEOUT_S: Final = 5.0  # a stalled scraper cannot hold stop() (and a thread) for long

JobsByState = Callable[[], Mapping[State, int]]
SpentToday = Callable[[], float]
RootsUp = Callable[[], Mapping[str, bool]]
Health = Callable[[], tuple[bool, str]]
T = TypeVar("T")


def error_kind(exc: BaseException) -> str:
    """The ``kind`` label for ``exc``: its nearest class named in ``API_ERROR_KINDS``."""
    for cls in type(exc).__mro__:
        if cls.__name__ in API_ERROR_KINDS:
            return cls.__name__
    return OTHER_KIND


class _Sources(Collector):
    """Gauges read at scrape time from the store and the file system, never cached."""

    def __init__(
        self,
        jobs_by_state: JobsByState | None,
        spent_today: SpentToday | None,
        roots: RootsUp | None,
    ) -> None:
        self._jobs_by_state = jobs_by_state
        self._spent_today = spent_today
        self._roots = roots

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # without describe() the registry would call collect() (the store) when registering
        return [
            GaugeMetricFamily("viggle_watch_jobs", "Jobs in each state.", labels=["state"]),
            GaugeMetricFamily(
                "viggle_watch_credits_spent_today", "Credits committed today (UTC day)."
            ),
            GaugeMetricFamily(
                "viggle_watch_watch_root_up", "1 while a watch folder is there.", labels=["path"]
            ),
        ]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        jobs, spent, roots = self.describe()
        if self._jobs_by_state is not None and (counts := _read(self._jobs_by_state)) is not None:
            for state in State:
                jobs.add_metric([state.value], counts.get(state, 0))
            yield jobs
        if self._spent_today is not None and (credits := _read(self._spent_today)) is not None:
            spent.add_metric([], credits)
            yield spent
        if self._roots is not None and (up := _read(self._roots)) is not None:
            for path, ok in sorted(up.items()):
                roots.add_metric([path], 1.0 if ok else 0.0)
            yield roots


def _read(source: Callable[[], T]) -> T | None:
    """``source()``, or None (logged) when it fails: one broken source must not fail a scrape."""
    try:
        return source()
    except Exception as exc:
        log.warning("metrics_source_failed", reason=str(exc), error=type(exc).__name__)
        return None


class Metrics:
    """Every metric of one service, in its own registry (never the process-global default)."""

    def __init__(
        self,
        *,
        jobs_by_state: JobsByState | None = None,
        credits_spent_today: SpentToday | None = None,
        roots: RootsUp | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        self._submissions = Counter(
            "viggle_watch_submissions", "Renders submitted to Viggle.", ["rule"], registry=reg
        )
        self._errors = Counter(
            "viggle_watch_api_errors", "Viggle API errors by class.", ["kind"], registry=reg
        )
        self._credits = Counter(
            "viggle_watch_credits_estimated",
            "Credits estimated for submitted renders.",
            ["rule"],
            registry=reg,
        )
        self._poll = Histogram(
            "viggle_watch_poll_seconds",
            "One render status poll.",
            buckets=POLL_BUCKETS_S,
            registry=reg,
        )
        self._download = Histogram(
            "viggle_watch_download_seconds",
            "One result file downloaded.",
            buckets=DOWNLOAD_BUCKETS_S,
            registry=reg,
        )
        self._last_tick = Gauge(
            "viggle_watch_scheduler_last_tick_seconds",
            "Unix time the scheduler last ticked (0 before the first tick).",
            registry=reg,
        )
        self._events = Counter(
            "viggle_watch_events",
            "Service events (notify/events.py) by name.",
            ["event"],
            registry=reg,
        )
        self._notifications = Counter(
            "viggle_watch_notifications",
            "Notifications and service webhooks sent, by target and result (sent or failed).",
            ["target", "result"],
            registry=reg,
        )
        for kind in (*API_ERROR_KINDS, OTHER_KIND):  # every series exists from the start
            self._errors.labels(kind=kind)
        reg.register(_Sources(jobs_by_state, credits_spent_today, roots))
        self.last_tick_at: float | None = None

    def submitted(self, rule: str, credits: float) -> None:
        """A render of ``rule`` reached Viggle, estimated at ``credits``."""
        self._submissions.labels(rule=rule).inc()
        self._credits.labels(rule=rule).inc(credits)

    def api_error(self, exc: BaseException) -> None:
        """Count ``exc`` under its error class (see ``API_ERROR_KINDS``)."""
        self._errors.labels(kind=error_kind(exc)).inc()

    def event(self, name: str) -> None:
        """A service event happened (whether or not any target wants it)."""
        self._events.labels(event=name).inc()

    def notification(self, target: str, *, sent: bool) -> None:
        """A notify target or service webhook was sent a message (``sent``) or failed."""
        self._notifications.labels(target=target, result="sent" if sent else "failed").inc()

    def observe_poll(self, seconds: float) -> None:
        """One status poll took ``seconds``."""
        self._poll.observe(seconds)

    def observe_download(self, seconds: float) -> None:
        """One download took ``seconds``."""
        self._download.observe(seconds)

    def tick(self, now: float) -> None:
        """The scheduler ran at ``now`` (what /healthz checks)."""
        self.last_tick_at = now
        self._last_tick.set(now)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return _generate_latest(self.registry)


@contextmanager
def timed(observe: Callable[[float], None]) -> Iterator[None]:
    """Pass the block's duration (monotonic seconds) to ``observe``, also when it raises."""
    started = time.monotonic()
    try:
        yield
    finally:
        observe(time.monotonic() - started)


def healthy(
    metrics: Metrics, store_ping: Callable[[], object], now: float, max_age_s: float
) -> tuple[bool, str]:
    """Ok while the last tick is under ``max_age_s`` old and ``store_ping()`` does not raise."""
    last = metrics.last_tick_at
    if last is None:
        return False, "the scheduler has not ticked yet"
    if now - last > max_age_s:
        return False, f"the scheduler last ticked {now - last:.0f}s ago (limit {max_age_s:g}s)"
    try:
        store_ping()
    except Exception as exc:
        return False, f"the job store does not answer: {exc}"
    return True, "ok"


def parse_listen(listen: str, *, allow_remote: bool = False) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``); ConfigError for a remote host unless allowed."""
    try:
        return serving_listen(listen, what="metrics.listen", allow_remote=allow_remote)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins the request threads
    block_on_close = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can stall start-up
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    timeout = REQUEST_TIMEOUT_S

    def __init__(self, *args: Any, metrics: Metrics, health: Health) -> None:
        self._metrics = metrics
        self._health = health
        super().__init__(*args)  # handles the request: the fields above must exist first

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, self._metrics.exposition())
        elif path == "/healthz":
            ok, reason = self._health()
            self._send(200 if ok else 503, "text/plain; charset=utf-8", f"{reason}\n".encode())
        else:
            self._send(404, "text/plain; charset=utf-8", b"try /metrics or /healthz\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a scrape every 15 s is not news (the base class writes each to stderr)."""


class RunningMetrics(BackgroundServer):
    """The listener on its background thread; ``stop()`` closes it and joins every thread."""

    def __init__(self, server: _Server, url: str) -> None:
        super().__init__(server, name="viggle-metrics", poll_s=SHUTDOWN_POLL_S)
        self.url = url


def serve_metrics(
    metrics: Metrics, listen: str, *, health: Health, allow_remote: bool = False
) -> RunningMetrics:
    """Serve ``/metrics`` and ``/healthz`` on ``listen`` (port 0 picks one); return it running.

    Raises ConfigError for a non-loopback address (unless ``allow_remote``) or a port in use.
    """
    host, port = parse_listen(listen, allow_remote=allow_remote)
    handler = functools.partial(_Handler, metrics=metrics, health=health)
    server_class = _Server6 if ":" in host else _Server
    try:
        server = server_class((host, port), handler)
    except OSError as exc:
        raise ConfigError(f"metrics.listen {listen!r}: cannot listen: {exc.strerror}") from exc
    url_host = f"[{host}]" if ":" in host else host
    running = RunningMetrics(server, f"http://{url_host}:{server.server_port}")
    running.start()
    log.info("metrics_listening", url=running.url)
    return running
