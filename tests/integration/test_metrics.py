"""The metrics listener scraped over loopback: counters, histograms, store gauges, /healthz."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.support.store import make_spec
from viggle_watch.clock import day_of
from viggle_watch.errors import (
    ConfigError,
    FastUnavailableError,
    NotSentError,
    StoreError,
    ThrottledError,
)
from viggle_watch.notify.metrics import (
    API_ERROR_KINDS,
    Metrics,
    RunningMetrics,
    healthy,
    serve_metrics,
)
from viggle_watch.store.jobs import JobStore, Spend
from viggle_watch.store.states import State

T0 = 1_700_000_000.0
LOOPBACK = "127.0.0.1:0"
Serve = Callable[..., RunningMetrics]


def always_ok() -> tuple[bool, str]:
    return True, "ok"


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Factory: ``serve_metrics`` on a free loopback port, stopped after the test."""
    started: list[RunningMetrics] = []

    def factory(
        metrics: Metrics, health: Callable[[], tuple[bool, str]] = always_ok
    ) -> RunningMetrics:
        running = serve_metrics(metrics, LOOPBACK, health=health)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


def scrape(running: RunningMetrics) -> dict[str, float]:
    """GET /metrics; every sample as ``name{labels}`` → value."""
    response = requests.get(f"{running.url}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples


def family(samples: dict[str, float], prefix: str) -> dict[str, float]:
    """The samples whose key starts with ``prefix``."""
    return {k: v for k, v in samples.items() if k.startswith(prefix)}


def health_of(running: RunningMetrics) -> tuple[int, str]:
    response = requests.get(f"{running.url}/healthz", timeout=5)
    return response.status_code, response.text


def test_counters_count_submissions_credits_and_errors_by_class(serve: Serve) -> None:
    """submitted() and api_error() show up in the scrape; error kinds start at 0."""
    metrics = Metrics()
    running = serve(metrics)
    assert family(scrape(running), "viggle_watch_api_errors_total") == {
        f'viggle_watch_api_errors_total{{kind="{kind}"}}': 0.0
        for kind in (*API_ERROR_KINDS, "other")
    }
    metrics.submitted("dance", 3)
    metrics.submitted("dance", 2)
    metrics.submitted("walk", 8)
    metrics.api_error(ThrottledError("slow down", retry_after_s=2))
    metrics.api_error(NotSentError("refused"))
    metrics.api_error(NotSentError("refused"))
    metrics.api_error(FastUnavailableError("no fast capacity"))  # counted as its parent class
    metrics.api_error(OSError("not an API error"))
    samples = scrape(running)
    assert (
        family(samples, "viggle_watch_submissions_total"),
        family(samples, "viggle_watch_credits_estimated_total"),
        {k: v for k, v in family(samples, "viggle_watch_api_errors_total").items() if v},
    ) == (
        {
            'viggle_watch_submissions_total{rule="dance"}': 2.0,
            'viggle_watch_submissions_total{rule="walk"}': 1.0,
        },
        {
            'viggle_watch_credits_estimated_total{rule="dance"}': 5.0,
            'viggle_watch_credits_estimated_total{rule="walk"}': 8.0,
        },
        {
            'viggle_watch_api_errors_total{kind="ThrottledError"}': 1.0,
            'viggle_watch_api_errors_total{kind="NotSentError"}': 2.0,
            'viggle_watch_api_errors_total{kind="RejectedError"}': 1.0,
            'viggle_watch_api_errors_total{kind="other"}': 1.0,
        },
    )


def test_histograms_record_poll_and_download_durations(serve: Serve) -> None:
    """observe_poll() and observe_download() land in their buckets, count and sum."""
    metrics = Metrics()
    running = serve(metrics)
    metrics.observe_poll(0.2)
    metrics.observe_poll(3.0)
    metrics.observe_download(42.0)
    samples = scrape(running)
    assert (
        samples['viggle_watch_poll_seconds_bucket{le="0.25"}'],
        samples['viggle_watch_poll_seconds_bucket{le="+Inf"}'],
        samples["viggle_watch_poll_seconds_count"],
        samples["viggle_watch_poll_seconds_sum"],
        samples['viggle_watch_download_seconds_bucket{le="30.0"}'],
        samples['viggle_watch_download_seconds_bucket{le="60.0"}'],
        samples["viggle_watch_download_seconds_count"],
    ) == (1.0, 2.0, 2.0, 3.2, 0.0, 1.0, 1.0)


def test_store_gauges_are_read_at_scrape_time(
    serve: Serve, store: JobStore, tmp_path: Path
) -> None:
    """Jobs by state (every state, from a real store), credits spent today, watch roots up."""
    for i in range(3):
        store.enqueue(make_spec(f"c{i}.png"), dedup_key=f"k{i}", source_path=f"/in/c{i}.png", at=T0)
    store.transition(1, State.QUEUED, State.FAILED, at=T0, detail="bad input")
    present, gone = tmp_path / "in", tmp_path / "share"
    present.mkdir()
    metrics = Metrics(
        jobs_by_state=store.counts,
        credits_spent_today=lambda: store.spent_on(day_of(T0)),
        roots=lambda: {str(p): p.is_dir() for p in (present, gone)},
    )
    running = serve(metrics)
    before = scrape(running)
    store.record_spend(None, Spend("character", 1.0, day_of(T0)), at=T0)
    after = scrape(running)
    expected_jobs = {f'viggle_watch_jobs{{state="{s}"}}': 0.0 for s in State}
    expected_jobs |= {'viggle_watch_jobs{state="queued"}': 2.0}
    expected_jobs |= {'viggle_watch_jobs{state="failed"}': 1.0}
    assert (
        family(before, "viggle_watch_jobs{"),
        before["viggle_watch_credits_spent_today"],
        after["viggle_watch_credits_spent_today"],
        family(before, "viggle_watch_watch_root_up"),
    ) == (
        expected_jobs,
        0.0,
        1.0,
        {
            f'viggle_watch_watch_root_up{{path="{present}"}}': 1.0,
            f'viggle_watch_watch_root_up{{path="{gone}"}}': 0.0,
        },
    )


def test_a_failing_source_leaves_the_rest_of_the_scrape(serve: Serve) -> None:
    """A source that raises (a closed store) drops its gauge; the scrape still answers."""

    def broken() -> dict[State, int]:
        raise StoreError("the job store is closed")

    running = serve(Metrics(jobs_by_state=broken, credits_spent_today=lambda: 4.0))
    samples = scrape(running)
    assert (family(samples, "viggle_watch_jobs{"), samples["viggle_watch_credits_spent_today"]) == (
        {},
        4.0,
    )


def test_healthz_follows_ticks_and_the_store(serve: Serve) -> None:
    """503 before the first tick, 200 while ticks are fresh, 503 when stale or the store fails."""
    metrics = Metrics()
    now = [T0]
    store_error: list[Exception] = []

    def ping() -> None:
        if store_error:
            raise store_error[0]

    running = serve(metrics, lambda: healthy(metrics, ping, now[0], 30.0))
    seen = [health_of(running)]
    metrics.tick(T0)
    now[0] = T0 + 29
    seen.append(health_of(running))
    now[0] = T0 + 31
    seen.append(health_of(running))
    metrics.tick(T0 + 31)
    store_error.append(StoreError("database is locked"))
    seen.append(health_of(running))
    assert seen == [
        (503, "the scheduler has not ticked yet\n"),
        (200, "ok\n"),
        (503, "the scheduler last ticked 31s ago (limit 30s)\n"),
        (503, "the job store does not answer: database is locked\n"),
    ]


def test_last_tick_is_exported(serve: Serve) -> None:
    """The scheduler's last tick is a gauge too, for alerting on staleness in Prometheus."""
    metrics = Metrics()
    running = serve(metrics)
    before = scrape(running)["viggle_watch_scheduler_last_tick_seconds"]
    metrics.tick(T0)
    assert (before, scrape(running)["viggle_watch_scheduler_last_tick_seconds"]) == (0.0, T0)


def test_unknown_paths_are_404(serve: Serve) -> None:
    """Only /metrics and /healthz are served."""
    running = serve(Metrics())
    assert requests.get(f"{running.url}/", timeout=5).status_code == 404


def test_the_registry_is_per_instance() -> None:
    """Two Metrics never share series (nor the process-global registry's)."""
    first, second = Metrics(), Metrics()
    first.submitted("dance", 1)
    text = second.exposition().decode()
    assert ("viggle_watch_submissions_total{" in text, "process_" in text) == (False, False)


@pytest.mark.parametrize(
    "listen", ["0.0.0.0:9108", "[::]:9108", "192.0.2.10:9108", "metrics.example:9108"]
)
def test_a_non_loopback_listen_is_refused(listen: str) -> None:
    """The metrics name watch folders: without allow_remote only loopback is served."""
    before = threading.active_count()
    with pytest.raises(ConfigError, match="not a loopback address"):
        serve_metrics(Metrics(), listen, health=always_ok)
    assert threading.active_count() == before


@pytest.mark.parametrize("listen", ["9108", ":9108", "127.0.0.1:http", "127.0.0.1:70000"])
def test_a_malformed_listen_is_a_config_error(listen: str) -> None:
    """``metrics.listen`` is host:port."""
    with pytest.raises(ConfigError, match="must be host:port"):
        serve_metrics(Metrics(), listen, health=always_ok)


def test_a_port_in_use_is_a_config_error() -> None:
    """Binding a taken port fails with the address in the message, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(ConfigError, match="cannot listen"):
            serve_metrics(Metrics(), listen, health=always_ok)


def test_localhost_is_loopback() -> None:
    """``localhost`` is accepted as a loopback name."""
    running = serve_metrics(Metrics(), "localhost:0", health=always_ok)
    try:
        assert requests.get(f"{running.url}/healthz", timeout=5).status_code == 200
    finally:
        running.stop()


def test_stop_joins_every_thread() -> None:
    """stop() shuts the listener down, joins its threads and closes the port (idempotent)."""
    before = set(threading.enumerate())
    running = serve_metrics(Metrics(), LOOPBACK, health=always_ok)
    scrape(running)
    running.stop()
    running.stop()
    leftover = [t.name for t in threading.enumerate() if t not in before]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/healthz", timeout=5)
    assert leftover == []
