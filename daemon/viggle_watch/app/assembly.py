"""The composition root: every object of the service built from the config, and wired."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import requests

from viggle_watch.apikey import ApiKey
from viggle_watch.app.clients import hook_session, input_claimer, make_client
from viggle_watch.app.gatekeeper import Gatekeeper
from viggle_watch.app.keeper import Keeper
from viggle_watch.app.report import gather, job_detail, job_summary
from viggle_watch.app.service import Service
from viggle_watch.app.settings import (
    RuleSnapshot,
    admit_window,
    budget_of,
    check_paths,
    output_rules,
    submit_settings,
)
from viggle_watch.app.storage import open_backend, store_exists
from viggle_watch.app.storeclock import StoreClock
from viggle_watch.clock import Clock, SystemClock, day_of
from viggle_watch.config import Config, Rule
from viggle_watch.errors import ConfigError
from viggle_watch.intake.tick import Intake
from viggle_watch.notify.alerts import Alerts
from viggle_watch.notify.announce import Announcer
from viggle_watch.notify.events import Event, rejected_event
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.notify.metrics import Metrics
from viggle_watch.notify.outbox import Outbox, build_outbox
from viggle_watch.outputs.finished import Finisher
from viggle_watch.redaction import register_secret
from viggle_watch.render import actions
from viggle_watch.render.breaker import CircuitBreaker
from viggle_watch.render.downloader import Downloader, OutputSettings
from viggle_watch.render.journal import JOURNAL, Journal
from viggle_watch.render.poller import Poller
from viggle_watch.render.preparer import Preparer
from viggle_watch.render.recorder import Recorder
from viggle_watch.render.submitter import Submitter
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.assets import AssetStore
from viggle_watch.store.backend import Backend
from viggle_watch.store.flags import FlagStore
from viggle_watch.store.holding import Holds
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.remembered import Remembered
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.watch.stability import SettleTracker


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
    if config.web is not None:  # said before anything is opened
        from viggle_watch.web.token import missing_parts

        if (missing := missing_parts()) is not None:
            raise ConfigError(missing)
    register_secret(key.reveal())
    for rule in config.rules:
        rule.output.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    db = open_backend(config)
    if db.shared and isinstance(clock, SystemClock):  # one clock for every host: the store's
        clock = StoreClock(clock, db.db_time)
        clock.correct()
    store, assets, hosts = JobStore(db, lease_s=config.store.lease), AssetStore(db), HostStore(db)
    tracker = SettleTracker(config.settle)
    client = make_client(config, key, session=session, hosts=hosts if db.shared else None)
    breaker = CircuitBreaker()
    # answers to paid POSTs (renders, asset creations) reach the store through this one path
    recorder = Recorder(store, Journal(config.state_dir / JOURNAL), assets=assets)

    outbox = build_outbox(
        config.notify,
        clock.time,
        webhooks=config.webhooks,
        session=hook_session,  # one of its own per webhook: never the Viggle client's
        state_dir=config.state_dir,
    )
    rules = RuleSnapshot(config.rules)
    # a session of its own, never the Viggle client's: no API key can ride along
    hooks = HookRunner(store, hook_session(), clock=clock.time)
    # every state change, told once: notify targets, webhooks, metrics, the rule's hooks
    store.on_moved(Announcer(outbox, hooks, rules.get, clock.time).moved)
    metrics = Metrics(
        jobs_by_state=store.counts,
        credits_spent_today=lambda: store.spent_on(day_of(clock.time())),
        roots=lambda: {str(r.watch): r.watch.is_dir() for r in rules.get().values()},
    )
    outbox.count_with(metrics)
    finisher = Finisher(
        store,
        rules.get,
        clock=clock.time,
        on_moved=tracker.forget,
    )
    ended = finisher.ended
    flags = FlagStore(db)
    gatekeeper = Gatekeeper(flags, client)
    listening = bool(outbox.lanes) or config.web is not None  # targets, or the event stream
    alerts = Alerts(outbox.emit if listening else _nobody, store, flags)  # a pause is logged
    wiring = Wiring(store, client, ended, metrics, gatekeeper)

    service = Service(
        config=config,
        clock=clock,
        db=db,
        store=store,
        assets=assets,
        tracker=tracker,
        intake=Intake(
            store,
            config.rules,
            tracker,
            claim=input_claimer(hosts, config),
            incomplete_grace_s=config.incomplete_grace,
            remembered=Remembered.open(config.state_dir),
            on_rejected=partial(_rejected, hooks, outbox, clock),
        ),
        preparer=Preparer(
            wiring,
            assets,
            budget=budget_of(config),
            asset_poll_s=max(config.poll_interval, 1.0),
            admit_window=admit_window(config),
            recorder=recorder,
        ),
        submitter=Submitter(
            wiring, assets, submit_settings(config), breaker=breaker, recorder=recorder
        ),
        poller=Poller(
            wiring,
            poll_interval_s=config.poll_interval,
            render_timeout_s=config.render_timeout,
            breaker=breaker,
            holds=Holds(db),
        ),
        downloader=Downloader(wiring, OutputSettings(output_rules(config)), holds=Holds(db)),
        tick_interval_s=tick_interval_s,
        rules=rules,
        hooks=hooks,
        keeper=Keeper(db, store, assets, hosts),
        gatekeeper=gatekeeper,
        metrics=metrics,
        outbox=outbox,
        alerts=alerts,
    )
    if config.web is not None:  # FastAPI and uvicorn are imported only then
        from viggle_watch.web.build import build_web

        service.web = build_web(
            config,
            metrics,
            service.health,
            status=lambda: gather(service.config),  # as reloaded (SIGHUP)
            current=lambda: service.config,
            open_db=partial(_open_db, config),
            summary=job_summary,
            detail=job_detail,
            act=partial(_act, client, rules.get),
            watch=_event_watch(config, db, outbox),
            rules=rules.get,
            clock=clock.time,
            settling=tracker.settling,
        )
    return service


def _act(
    client: ViggleClient,
    rules: Callable[[], Mapping[str, Rule]],
    db: Backend,
    action: str,
    job_id: int,
    options: dict[str, Any],
) -> Job:
    """A person's action on a job, from the API: what `viggle-watch jobs ACTION` does, on a
    store connection of the request's own."""
    store, now = JobStore(db), time.time()
    if action == "retry":
        return actions.retry(store, AssetStore(db), job_id, force=options["force"], now=now)
    if action == "resolve":
        return actions.resolve(
            store, job_id, viggle_job=options["viggle_job"], now=now, client=client
        )
    if action == "accept":
        return actions.accept(store, job_id, now=now)
    ended = actions.cancel(store, client, job_id, now=now)
    Finisher(store, rules, clock=time.time).ended(ended)  # logged, inputs filed, as the CLI
    return ended


def _event_watch(
    config: Config, db: Backend, outbox: Outbox
) -> Callable[[Callable[[Event], None]], Callable[[], None]]:
    """What the event stream shows: this service's events and, on a shared store, the other
    hosts' job changes too (read from the store while a stream is open: docs/web.md)."""
    if not db.shared:
        return outbox.watch
    from viggle_watch.web.other_hosts import OtherHosts, watch_both

    return watch_both(outbox.watch, OtherHosts(partial(_open_db, config, True)).watch)


def _open_db(config: Config, readonly: bool) -> Backend | None:
    """The store, for one web request (None before the first `run` made it)."""
    if not store_exists(config):
        return None
    return open_backend(config, readonly=readonly)


def _rejected(
    hooks: HookRunner,
    outbox: Outbox,
    clock: Clock,
    rule: Rule,
    error: Path | None,
    document: dict[str, Any],
) -> None:
    """An input refused before spending: the rule's ``on_failed``, and the ``rejected`` event."""
    hooks.rejected(rule.name, rule.on_failed, error_file=error, document=document)
    source = Path(str(document.get("path") or ""))
    outbox.emit(rejected_event(rule.name, source, str(document.get("reason", "")), clock.time()))


def _nobody(_event: object) -> None:
    """Where the service's events go when no one listens (they are logged where they happen)."""
