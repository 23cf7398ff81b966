"""`viggle-watch jobs …`: list, show, retry, cancel and resolve jobs, while the service runs."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from viggle_watch.app.clients import make_client
from viggle_watch.app.report import job_detail, why
from viggle_watch.app.storage import open_backend, store_exists
from viggle_watch.cli.bulk import run_bulk, selected
from viggle_watch.cli.status import print_job_detail
from viggle_watch.config import Config, resolve_api_key
from viggle_watch.errors import ViggleWatchError
from viggle_watch.outputs.finished import Finisher
from viggle_watch.render import actions
from viggle_watch.store.assets import AssetStore
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State
from viggle_watch.viggle.client import ViggleClient


def run_jobs(args: argparse.Namespace, config: Config) -> int:
    if args.action == "list" and not store_exists(config):  # before the first `run`: none
        print("[]" if args.json else "no jobs yet (the first `viggle-watch run` makes the store)")
        return 0
    db = open_backend(config, readonly=args.action in ("list", "show"))
    try:
        store, console = JobStore(db), Console()
        if args.action == "list":
            return _list(store, args, console)
        if args.action == "show":
            return _show(store, args, console)
        now = time.time()
        if args.action == "resolve":
            client = make_client(config, resolve_api_key(config))
            job = actions.resolve(
                store, args.id, viggle_job=args.viggle_job, now=now, client=client
            )
            console.print(f"job {job.id} is now {job.state}")
            return 0
        act = _acting(args, config, store, AssetStore(db), now)
        if args.id is None and args.state is None:
            raise ViggleWatchError(f"jobs {args.action}: give a job id, or --state to select")
        if args.action == "accept" and args.state not in (None, State.REVIEW):
            raise ViggleWatchError(
                f"only jobs in review can be accepted, not {args.state} ones: --state review"
            )
        if args.state is not None:
            return run_bulk(selected(store, args, now), args.action, act, yes=args.yes)
        job = act(_one(store, args.id))
        if args.action == "accept":
            console.print(
                f"job {job.id} accepted: the service publishes it from _review/ as done at its"
                " next download tick (nothing is rendered or paid again)"
            )
        else:
            console.print(f"job {job.id} is now {job.state}")
        return 0
    finally:
        db.close()


def _one(store: JobStore, job_id: int) -> Job:
    job = store.get(job_id)
    if job is None:
        raise ViggleWatchError(f"there is no job {job_id}")
    return job


def _acting(
    args: argparse.Namespace, config: Config, store: JobStore, assets: AssetStore, now: float
) -> Callable[[Job], Job]:
    """What ``retry``, ``accept`` or ``cancel`` does to one job (the client is made once,
    when needed)."""
    if args.action == "retry":
        return lambda job: actions.retry(store, assets, job.id, force=args.force, now=now)
    if args.action == "accept":
        return lambda job: actions.accept(store, job.id, now=now)
    rules = {r.name: r for r in config.rules}
    finisher = Finisher(store, lambda: rules, clock=time.time)
    clients: list[ViggleClient] = []

    def cancel(job: Job) -> Job:
        if job.state == State.RENDERING and not clients:  # DELETE at Viggle needs the key
            clients.append(make_client(config, resolve_api_key(config)))
        ended = actions.cancel(store, clients[0] if clients else None, job.id, now=now)
        finisher.ended(ended)  # as the service would: job_finished, inputs filed
        return ended

    return cancel


def _list(store: JobStore, args: argparse.Namespace, console: Console) -> int:
    state = State(args.state) if args.state else None
    jobs = store.latest(state=state, rule=args.rule, limit=args.limit)
    if args.json:
        print(json.dumps([job_detail(j, []) for j in jobs], indent=2, default=str))
        return 0
    table = Table()
    for column in ("id", "rule", "state", "input", "scene", "viggle job", "why"):
        table.add_column(column, overflow="fold")  # a name wraps, never cut to "…"
    for j in jobs:
        scene = j.spec.scene.path.rsplit("/", 1)[-1] if j.spec.scene else j.spec.scene_key
        table.add_row(
            str(j.id),
            j.rule,
            str(j.state),
            j.source_path.rsplit("/", 1)[-1],  # what was dropped (a scenes rule: a video)
            scene,
            j.viggle_job_id or "",
            why(j, "", time.time()),
        )
    console.print(table)
    return 0


def _show(store: JobStore, args: argparse.Namespace, console: Console) -> int:
    job = store.get(args.id)
    if job is None:
        raise ViggleWatchError(f"there is no job {args.id}")
    detail = job_detail(job, store.events(job.id))
    if args.json:
        print(json.dumps(detail, indent=2, default=str))
    else:
        print_job_detail(detail, console)
    return 0
