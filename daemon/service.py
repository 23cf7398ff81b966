"""The composition root: builds every object from the config, starts and stops the service."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import requests
import structlog

from daemon.apikey import ApiKey
from daemon.backoff import RateLimiter
from daemon.clock import Clock, SystemClock
from daemon.config import Config
from daemon.errors import ConfigError
from daemon.intake import Intake
from daemon.logs import register_secret
from daemon.outputs.archive import archive_source
from daemon.outputs.atomic import part_path
from daemon.render.budget import Budget
from daemon.render.downloader import Downloader, OutputSettings, stale_parts
from daemon.render.politeness import CircuitBreaker
from daemon.render.poller import Poller
from daemon.render.preparer import Preparer
from daemon.render.submitter import SubmitSettings, Submitter
from daemon.scheduler import TickScheduler
from daemon.store.assets import AssetStore
from daemon.store.db import Database
from daemon.store.jobs import Job, JobStore
from daemon.store.states import State
from daemon.viggle.client import Timeouts, ViggleClient
from daemon.watch.observer import Watching, start_observer
from daemon.watch.stability import SettleTracker

log = structlog.get_logger()
STATE_DB: Final = "state.db"


def state_db_path(config: Config) -> Path:
    return config.state_dir / STATE_DB


def check_paths(config: Config) -> None:
    """Refuse to start on missing watch folders or scene videos (a share may be unmounted)."""
    for rule in config.rules:
        if not rule.watch.is_dir():
            raise ConfigError(
                f"rule {rule.name}: watch folder {rule.watch} does not exist "
                "(create it, or mount the share)"
            )
        for path in [s.video for s in rule.scenes if s.video] + [
            p for s in rule.scenes for p in s.cast.values()
        ]:
            if not path.is_file():
                raise ConfigError(f"rule {rule.name}: {path} does not exist")


@dataclass
class Service:
    """Every running part, built once from the config; ``start``/``stop`` drive their lifecycle."""

    config: Config
    clock: Clock
    db: Database
    store: JobStore
    assets: AssetStore
    tracker: SettleTracker
    intake: Intake
    preparer: Preparer
    submitter: Submitter
    poller: Poller
    downloader: Downloader
    tick_interval_s: float
    scheduler: TickScheduler = field(default_factory=TickScheduler)
    observer: Watching | None = None

    def start(self) -> None:
        now = self.clock.time()
        for job_id in self.store.recover(now):
            log.error(
                "job_uncertain",
                job_id=job_id,
                reason="the service stopped while submitting; outcome unknown",
                hint="check the Viggle dashboard, then `viggle-watch jobs resolve`",
            )
        for asset in self.assets.recover(now):
            log.error(
                "asset_uncertain",
                kind=str(asset.kind),
                job_id=asset.job_id,
                reason="the service stopped while creating it; outcome unknown",
            )
        self._remove_stale_parts()
        found = self.intake.rescan(now)
        log.info("startup_scan_finished", files=found)
        roots = sorted({r.watch for r in self.config.rules})
        self.observer = start_observer(roots, lambda p: self.tracker.touch(p, self.clock.time()))
        every = self.tick_interval_s
        self.scheduler.add("settle", lambda: self.intake.tick(self.clock.time()), every)
        self.scheduler.add("prepare", lambda: self.preparer.tick(self.clock.time()), every)
        self.scheduler.add("dispatch", lambda: self.submitter.tick(self.clock.time()), every)
        self.scheduler.add("poll", lambda: self.poller.tick(self.clock.time()), every)
        self.scheduler.add("download", lambda: self.downloader.tick(self.clock.time()), every)
        self.scheduler.add(
            "rescan", lambda: self.intake.rescan(self.clock.time()), self.config.rescan_interval
        )
        self.scheduler.start()
        log.info(
            "service_started", rules=[r.name for r in self.config.rules], state_db=str(self.db.path)
        )

    def _remove_stale_parts(self) -> None:
        """Temp files that no unfinished download owns are left-overs of a crash: remove them."""
        owned = {
            part_path(Path(p))
            for j in self.store.latest(state=State.DOWNLOADING, limit=100_000)
            for p in (j.output_path, j.mask_path)
            if p
        }
        for stale in stale_parts(sorted({r.output for r in self.config.rules}), owned):
            stale.unlink(missing_ok=True)
            log.warning("stale_part_removed", path=str(stale))

    def stop(self) -> None:
        """Drain: no new submissions; a POST in flight finishes; rendering jobs resume later."""
        self.submitter.draining = True
        self.scheduler.shutdown()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        self.db.close()
        log.info("service_stopped")

    def run_until_signalled(self) -> None:
        """Run in the foreground until SIGINT or SIGTERM; the handlers only set a flag."""
        stop = threading.Event()
        previous = {
            s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)
        }
        self.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            log.info("service_stopping")
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def make_client(
    config: Config, key: ApiKey, *, session: requests.Session | None = None
) -> ViggleClient:
    """The Viggle client for ``config``, behind one rate limit shared by every call it makes."""
    limiter = RateLimiter(config.rate_limit, burst=max(2.0, config.rate_limit))
    return ViggleClient(
        config.api.base_url,
        key,
        session=session,
        timeouts=Timeouts(connect_s=config.api.timeout_connect, read_s=config.api.timeout_read),
        pace=lambda: limiter.wait_s(time.monotonic()),
    )


def build_service(
    config: Config,
    key: ApiKey,
    *,
    clock: Clock | None = None,
    session: requests.Session | None = None,
    tick_interval_s: float = 1.0,
) -> Service:
    """Build (but do not start) the service for ``config``."""
    check_paths(config)
    register_secret(key.reveal())
    for rule in config.rules:
        rule.output.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    db = Database.open(state_db_path(config))
    store, assets = JobStore(db), AssetStore(db)
    tracker = SettleTracker(config.settle)
    client = make_client(config, key, session=session)
    breaker = CircuitBreaker()
    budget = Budget(config.budget.daily_credits, config.budget.max_credits_per_job)

    def ended(job: Job) -> None:
        archive_source(store, Path(job.source_path), tracker.forget)

    return Service(
        config=config,
        clock=clock,
        db=db,
        store=store,
        assets=assets,
        tracker=tracker,
        intake=Intake(store, config.rules, tracker),
        preparer=Preparer(
            store,
            assets,
            client,
            budget=budget,
            asset_poll_s=max(config.poll_interval, 1.0),
            on_ended=ended,
        ),
        submitter=Submitter(
            store,
            assets,
            client,
            SubmitSettings(config.max_concurrent_renders, config.poll_interval, budget),
            breaker=breaker,
            on_ended=ended,
        ),
        poller=Poller(
            store,
            client,
            poll_interval_s=config.poll_interval,
            render_timeout_s=config.render_timeout,
            breaker=breaker,
            on_ended=ended,
        ),
        downloader=Downloader(
            store, client, OutputSettings({r.name: r.output for r in config.rules}), on_ended=ended
        ),
        tick_interval_s=tick_interval_s,
    )
