"""The running service: every part, started and stopped in order (built by ``app.assembly``)."""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final, Protocol

import structlog

from viggle_watch.app.clients import make_client
from viggle_watch.app.gatekeeper import KEY_RECHECK_S, Gatekeeper
from viggle_watch.app.keeper import Keeper
from viggle_watch.app.naming import NameTakenError, name_in_use
from viggle_watch.app.scheduler import TickScheduler
from viggle_watch.app.settings import (
    RuleSnapshot,
    admit_window,
    budget_of,
    check_paths,
    output_rules,
    submit_settings,
)
from viggle_watch.app.storage import STATE_DB, state_db_path
from viggle_watch.app.storeclock import StoreClock
from viggle_watch.app.systemd import Notifier, heartbeat_interval_s, status_line
from viggle_watch.clock import Clock
from viggle_watch.config import Config, JobsRule, load_config
from viggle_watch.config.deprecated import deprecated
from viggle_watch.errors import ViggleWatchError
from viggle_watch.intake.decide import wanted
from viggle_watch.intake.tick import Intake
from viggle_watch.notify.alerts import Alerts
from viggle_watch.notify.events import folder_event, service_event
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.notify.metrics import Metrics, RunningMetrics, healthy, serve_metrics
from viggle_watch.notify.outbox import Outbox
from viggle_watch.outputs.atomic import remove_part
from viggle_watch.render.downloader import Downloader, OutputSettings, owned_parts, stale_parts
from viggle_watch.render.poller import Poller
from viggle_watch.render.preparer import Preparer
from viggle_watch.render.submitter import Submitter
from viggle_watch.statedir import make_state_dir
from viggle_watch.store.assets import AssetStore
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.states import State
from viggle_watch.watch.mounts import watch_roots
from viggle_watch.watch.observer import Watching, start_observers
from viggle_watch.watch.roots import RootId, changed, identities
from viggle_watch.watch.stability import SettleTracker

log = structlog.get_logger()


class Serving(Protocol):
    """A listener started and stopped with the service (the web API)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


__all__ = ["STATE_DB", "Service", "make_client", "state_db_path"]
PID_FILE: Final = "viggle-watch.pid"
HOOKS_DRAIN_S: Final = 10.0  # queued hooks get this long at stop (then as long again, no retries)
SETTLE_TICK_S: Final = 0.2
ROOTS_CHECK_S: Final = 2.0  # a watch folder deleted and made again is watched again this soon
ALERTS_S: Final = 10.0  # how often the budget and the flags are looked at for notify events
HEALTH_MAX_AGE_S: Final = 60.0  # /healthz: 503 once the scheduler has not ticked for this long


@dataclass
class Service:
    """Every running part, built once from the config; ``start``/``stop`` drive their lifecycle."""

    config: Config
    clock: Clock
    db: Backend
    store: JobStore
    assets: AssetStore
    tracker: SettleTracker
    intake: Intake
    preparer: Preparer
    submitter: Submitter
    poller: Poller
    downloader: Downloader
    tick_interval_s: float
    rules: RuleSnapshot  # replaced whole on reload; the callbacks read it at each call
    hooks: HookRunner
    keeper: Keeper
    gatekeeper: Gatekeeper
    # a worker per job: the watchdog ping never waits behind a long upload or a slow rescan
    scheduler: TickScheduler = field(default_factory=lambda: TickScheduler(workers=8))
    observer: Watching | None = None
    _armed: dict[Path, RootId] = field(default_factory=dict)  # each watch folder when armed
    _watch_lock: threading.Lock = field(default_factory=threading.Lock)
    reload_requested: threading.Event = field(default_factory=threading.Event)
    metrics: Metrics = field(default_factory=Metrics)
    outbox: Outbox = field(default_factory=lambda: Outbox([]))
    alerts: Alerts | None = None
    web: Serving | None = None  # the JSON API (``web`` configured; built by app.assembly)
    metrics_server: RunningMetrics | None = None
    notifier: Notifier = field(default_factory=Notifier)  # a no-op without $NOTIFY_SOCKET
    _settle_stop: threading.Event = field(default_factory=threading.Event)
    _settle_thread: threading.Thread | None = None
    _settled_at: float = 0.0  # when the settle tick last finished (a stuck one fails /healthz)

    def start(self) -> None:
        if not self.db.claim_host():  # before anything is touched: the other one owns it
            raise name_in_use(self.db.host, self.db.describe(), self.keeper.holder())
        self.keeper.register(self.clock.time())  # the heartbeat row: one live process a name
        if self.config.metrics.listen is not None:  # first: a taken port fails the start early
            self.metrics_server = serve_metrics(
                self.metrics, self.config.metrics.listen, health=self.health
            )
        for setting, words in deprecated(self.config).items():  # it works: said once, at start
            log.warning("setting_deprecated", setting=setting, hint=words)
        if self.web is not None:
            self.web.start()
        now = self._settled_at = self.clock.time()
        # first the answers a previous run could not write: recovery would make their jobs
        # uncertain (docs/reliability.md §2.3)
        self.submitter.recorder.replay()
        self.keeper.recover(now)
        self.gatekeeper.check_key(now)  # a refused key holds submissions before the first one
        self._remove_stale_parts()
        self.hooks.start()
        self.outbox.start()
        self.outbox.emit(
            service_event("started", "viggle-watch started", _started_words(self), now)
        )
        self.notifier.status("scanning the watch folders")
        found = self.intake.rescan(now)
        log.info("startup_scan_finished", files=found)
        self._watch()
        every = self.tick_interval_s
        # its own thread: often while files settle (queued soon after), asleep when none do
        self._settle_thread = threading.Thread(
            target=self._settle_loop, args=(min(every, SETTLE_TICK_S),), name="settle", daemon=True
        )
        self._settle_thread.start()
        self.scheduler.add("prepare", lambda: self.preparer.tick(self.clock.time()), every)
        self.scheduler.add("dispatch", lambda: self.submitter.tick(self.clock.time()), every)
        self.scheduler.add("poll", lambda: self.poller.tick(self.clock.time()), every)
        self.scheduler.add("download", lambda: self.downloader.tick(self.clock.time()), every)
        self.scheduler.add(
            "rescan", lambda: self.intake.rescan(self.clock.time()), self.config.rescan_interval
        )
        self.scheduler.add("heartbeat", lambda: self.metrics.tick(self.clock.time()), every)
        self.scheduler.add("roots", self.check_roots, ROOTS_CHECK_S)  # a few stat() calls
        if self.alerts is not None:  # the budget, a pause, the key: told when they change
            self.scheduler.add("alerts", self._look, ALERTS_S)

        def check_key() -> None:
            self.gatekeeper.recheck(self.clock.time())

        # checked once above, before the first tick: then every few minutes
        self.scheduler.add("keycheck", check_key, KEY_RECHECK_S, first_after_s=KEY_RECHECK_S)
        if self.db.shared:  # leases: a silent host's work is taken over by the others
            lease_every = max(1.0, min(self.store.lease_s / 4, 15.0))
            self.scheduler.add("lease", lambda: self.keep_leases(self.clock.time()), lease_every)
        # WATCHDOG=1 from the scheduler itself, while /healthz would say ok (else no ping)
        beat = partial(self.notifier.heartbeat, self.health, self.store.counts)
        self.scheduler.add("watchdog", beat, heartbeat_interval_s(os.environ))
        self.scheduler.start()
        log.info(
            "service_started",
            rules=[r.name for r in self.config.rules],
            store=self.db.describe(),
            host=self.db.host,
        )
        self.notifier.ready(status_line(self.store.counts()))

    def render_once(self, now: float) -> None:
        """Each render stage's tick once, in pipeline order (tests and drills step by hand)."""
        self.preparer.tick(now)
        self.submitter.tick(now)
        self.poller.tick(now)
        self.downloader.tick(now)

    def keep_leases(self, now: float) -> None:
        """Heartbeat this host's leases; take over what silent hosts held (shared store) and
        settle again at once the inputs they had claimed. A host whose name another process
        took holds all new paid work at once; the main loop then stops it."""
        if isinstance(self.clock, StoreClock):  # the store's time, measured again
            self.clock.correct()
            now = self.clock.time()
        freed = self.keeper.keep(now)
        if freed:
            self.intake.look_again(freed, now)
        if self.keeper.lost is not None:
            self.submitter.draining = True
            self.gatekeeper.hold_here(self.keeper.lost)

    def _settle_loop(self, every_s: float) -> None:
        """The settle tick, run only while something is settling or waits on the clock (pairs
        to expire, a cut-off file's grace): an idle service with 50,000 files under watch wakes
        for nothing here."""
        while not self._settle_stop.is_set():
            waiting = self.intake.waiting()
            if not self.tracker.wait_for_work(1.0 if waiting else 60.0) and not waiting:
                continue
            if self._settle_stop.is_set():
                break
            try:
                self.intake.tick(self.clock.time())
            except Exception:  # a tick must never end the loop (as the scheduler's jobs)
                log.exception("tick_failed", job="settle")
            self._settled_at = self.clock.time()
            self._settle_stop.wait(every_s)

    def health(self) -> tuple[bool, str]:
        now = self.clock.time()
        stuck_s = now - self._settled_at
        if self.tracker.pending() and stuck_s > HEALTH_MAX_AGE_S:  # files wait on a stuck tick
            return False, f"the settle tick has not finished for {stuck_s:.0f} s"
        return healthy(self.metrics, self.store.counts, now, HEALTH_MAX_AGE_S)

    def _watch(self) -> None:
        """(Re-)arm an observer on every watch folder that is there (the others: once back)."""
        with self._watch_lock:
            if self.observer is not None:
                self.observer.stop()
                self.observer.join(timeout=5)
            roots = watch_roots(self.config)
            self._armed = identities(root.path for root in roots)
            roots = [root for root in roots if self._armed[root.path] is not None]
            self.observer = start_observers(roots, self._event)
        for root in roots:
            log.info("watching", path=str(root.path), observer=root.kind, reason=root.reason)

    def _look(self) -> None:
        if self.alerts is not None:  # the config's cap now: a reload may have changed it
            self.alerts.look(self.clock.time(), self.config.budget.daily_credits)

    def check_roots(self) -> None:
        """A watch folder gone is said once; one back (or deleted and made again) is watched
        again and scanned at once, not at the next rescan (issue 14 §15)."""
        change = changed(self._armed, identities(self._armed))
        now = self.clock.time()
        for path in change.gone:
            log.warning("watch_root_missing", path=str(path), hint="watched again once back")
            self._armed[path] = None
            self.outbox.emit(folder_event(path, now, back=False))
        if change.back:
            log.warning("watch_root_back", paths=[str(p) for p in change.back])
            for path in change.back:
                self.outbox.emit(folder_event(path, now, back=True))
            self._watch()
            self.intake.rescan(self.clock.time())

    def _unit_of(self, path: Path) -> Path | None:
        """What an event is about: the file, the job folder it is in, or nothing any rule
        could use (not tracked at all)."""
        for rule in self.config.rules:
            if isinstance(rule, JobsRule) and rule.watch in path.parents:
                unit = rule.watch / path.relative_to(rule.watch).parts[0]
                if unit != path or wanted(rule, path):
                    return unit
            elif rule.watch in path.parents and wanted(rule, path):
                return path
        return None

    def _event(self, path: Path) -> None:
        unit = self._unit_of(path)
        if unit is not None:
            self.tracker.touch(unit, self.clock.time())

    def reload(self) -> bool:
        """Re-read the config and rules; an invalid one is refused and the old one kept.

        Queued jobs stay as they are (the store is the source of truth); new and changed rules
        apply to what settles from now on; a removed rule's jobs still finish.
        """
        try:
            new = load_config(self.config.source)
            check_paths(new)
        except ViggleWatchError as exc:
            log.error("config_reload_failed", reason=str(exc), kept=str(self.config.source))
            return False
        if (new.state_dir, new.api, new.store) != (
            self.config.state_dir,
            self.config.api,
            self.config.store,
        ):
            log.warning("config_reload_partial", reason="state_dir, api and store need a restart")
        for rule in new.rules:
            rule.output.mkdir(parents=True, exist_ok=True)
        self.rules.replace(new.rules)
        self.downloader.configure(OutputSettings(output_rules(new)))
        self.intake.set_rules(new.rules)
        self.preparer.configure(budget_of(new), admit_window(new))
        self.submitter.configure(submit_settings(new))
        old_roots, self.config = watch_roots(self.config), new
        if watch_roots(new) != old_roots:
            self._watch()
        log.info("config_reloaded", rules=sorted(self.rules.get()))
        return True

    def _remove_stale_parts(self) -> None:
        """Temp files that no unfinished download owns are left-overs of a crash: remove them."""
        downloading = self.store.latest(state=State.DOWNLOADING, limit=100_000)
        owned = owned_parts(downloading, self.store.host)
        folders = sorted({r.output for r in self.config.rules})
        for stale in stale_parts(folders, owned, self.store.host):
            remove_part(stale)  # a file, or a folder of PNG frames a crash cut short
            log.warning("stale_part_removed", path=str(stale))

    def stop(self) -> None:
        """Drain: no new submissions; a POST in flight finishes; rendering jobs resume later."""
        self.notifier.stopping("draining: finishing the requests in flight")
        self.submitter.draining = True
        self._settle_stop.set()
        self.tracker.wake()
        if self._settle_thread is not None:
            self._settle_thread.join(timeout=30)
        self.scheduler.shutdown()
        self.submitter.recorder.close()  # a last try; what the store still refuses: the journal
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.metrics_server is not None:  # before the store closes under a scrape
            self.metrics_server.stop()
            self.metrics_server = None
        if self.web is not None:
            self.web.stop()
        self.hooks.stop(HOOKS_DRAIN_S)  # after the ticks (no more endings), before the store closes
        self.downloader.close()  # the child that measures renders
        now_s = self.clock.time()
        stopped = service_event("stopped", "viggle-watch stopped", "The service stopped.", now_s)
        self.outbox.emit(stopped)
        self.outbox.stop()  # what is queued, and the digests gathered, for a few seconds
        self.keeper.stopped(self.clock.time())  # the other hosts need not wait out a lease
        self.db.close()
        log.info("service_stopped")

    def run_until_signalled(self) -> None:
        """Run in the foreground until SIGINT or SIGTERM; the handlers only set a flag."""
        stop = threading.Event()
        previous = {
            s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)
        }
        previous[signal.SIGHUP] = signal.signal(
            signal.SIGHUP, lambda *_: self.reload_requested.set()
        )
        pid_file = self.config.state_dir / PID_FILE
        make_state_dir(self.config.state_dir)  # SQLite made it; PostgreSQL not
        self.start()
        try:
            pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
            while not stop.wait(0.5) and self.keeper.lost is None:
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.notifier.reloading()
                    self.reload()
                    self.notifier.ready()  # a refused config too: the old one runs on
        finally:
            pid_file.unlink(missing_ok=True)
            log.info("service_stopping")
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.keeper.lost is not None:  # exit 75: tried again later, refused while it lives
            raise NameTakenError(self.keeper.lost)


def _started_words(service: Service) -> str:
    rules = ", ".join(sorted(service.rules.get())) or "none"
    return f"The service started on {service.db.host} with rules: {rules}."
