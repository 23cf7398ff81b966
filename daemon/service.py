"""The composition root: builds every object from the config, starts and stops the service."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import requests
import structlog

from daemon.apikey import ApiKey
from daemon.clock import Clock, SystemClock
from daemon.config import Config
from daemon.errors import ConfigError
from daemon.intake import Intake
from daemon.logs import register_secret
from daemon.outputs.archive import archive_source
from daemon.render.downloader import Downloader
from daemon.render.poller import Poller
from daemon.render.submitter import Submitter
from daemon.scheduler import TickScheduler
from daemon.store.db import Database
from daemon.store.jobs import Job, JobStore
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
        for scene in rule.scenes:
            if not scene.video.is_file():
                raise ConfigError(f"rule {rule.name}: scene video {scene.video} does not exist")


@dataclass
class Service:
    """Every running part, built once from the config; ``start``/``stop`` drive their lifecycle."""

    config: Config
    clock: Clock
    db: Database
    store: JobStore
    tracker: SettleTracker
    intake: Intake
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
        found = self.intake.rescan(now)
        log.info("startup_scan_finished", files=found)
        roots = sorted({r.watch for r in self.config.rules})
        self.observer = start_observer(roots, lambda p: self.tracker.touch(p, self.clock.time()))
        every = self.tick_interval_s
        self.scheduler.add("settle", lambda: self.intake.tick(self.clock.time()), every)
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
    store = JobStore(db)
    tracker = SettleTracker(config.settle)
    client = ViggleClient(
        config.api.base_url,
        key,
        session=session,
        timeouts=Timeouts(connect_s=config.api.timeout_connect, read_s=config.api.timeout_read),
    )

    def ended(job: Job) -> None:
        archive_source(store, Path(job.source_path), tracker.forget)

    return Service(
        config=config,
        clock=clock,
        db=db,
        store=store,
        tracker=tracker,
        intake=Intake(store, config.rules, tracker),
        submitter=Submitter(
            store,
            client,
            max_in_flight=config.max_concurrent_renders,
            poll_interval_s=config.poll_interval,
            on_ended=ended,
        ),
        poller=Poller(store, client, poll_interval_s=config.poll_interval, on_ended=ended),
        downloader=Downloader(
            store, client, outputs={r.name: r.output for r in config.rules}, on_ended=ended
        ),
        tick_interval_s=tick_interval_s,
    )
