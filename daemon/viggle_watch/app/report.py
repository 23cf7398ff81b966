"""What `status` and `jobs show` report, as data (`--json` prints it; ``cli.status`` draws it),
and what `status` reads for it, nothing more (it is run often, by people and by scripts: its imports
stay light — no HTTP client, no logging library, no decoder): the job store, the watch folders,
the service's lock and the flags."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from viggle_watch.app.lock import Holder, holder_of
from viggle_watch.app.storage import open_backend, state_db_path, store_exists
from viggle_watch.clock import day_of, iso, local_offset
from viggle_watch.config import Config, PairsRule
from viggle_watch.config.kinds import missing_assets
from viggle_watch.intake.decide import Make, Wait, decide_file
from viggle_watch.intake.unused import candidates, survey
from viggle_watch.notify.tally import read_status
from viggle_watch.outputs.failure import FAILED
from viggle_watch.outputs.naming import KINDS, delivered_beside
from viggle_watch.outputs.sidecar import output_now
from viggle_watch.render.pending import pending_answers, read_lines
from viggle_watch.store.flags import FlagStore
from viggle_watch.store.hosts import Host, HostStore
from viggle_watch.store.jobs import Event, Job, JobStore
from viggle_watch.store.states import State
from viggle_watch.viggle.schemas import UNKNOWN_STATUS_NOTE
from viggle_watch.watch.mounts import watch_roots


def gather(config: Config) -> dict[str, Any]:
    """What `status` shows: the store's counts and jobs, the folders, the service, the flags."""
    if not store_exists(config):
        return _before_first_run(config)
    db = open_backend(config, readonly=True)
    try:
        now = time.time()
        return gather_status(
            JobStore(db),
            today=day_of(now),
            daily_cap=config.budget.daily_credits,
            now=now,
            roots=roots_report(config),
            waiting=waiting_partners(config),
            store_info={"backend": db.describe(), "host": db.host, "shared": db.shared}
            | ({"clock_offset_s": round(local_offset(db.db_time), 2)} if db.shared else {}),
            hosts=HostStore(db).hosts() if db.shared else None,
            lease_s=config.store.lease,
            held=FlagStore(db).holding(),
        ) | {
            "service": service_state(holder_of(config.state_dir)),
            "held": [
                {"flag": str(r.flag), "reason": r.reason, "host": r.host, "since": iso(r.at)}
                for r in FlagStore(db).raised()
            ],
            "missing_assets": _missing(config),
            "notify": read_status(config.state_dir),  # what each target came to (issue 17)
            "web": web_of(config),
            # answers from Viggle this host keeps for the store (issue 19, reliability §2.3)
            "pending_answers": pending_answers(read_lines(config.state_dir), now),
        }
    finally:
        db.close()


def _before_first_run(config: Config) -> dict[str, Any]:
    """The same shape, before any `run` made the job store: no jobs, the folders as they are."""
    path = state_db_path(config)
    return {
        "credits": {"today": 0.0, "daily_cap": config.budget.daily_credits},
        "counts": {},
        "jobs": [],
        "uncertain": [],
        "review": [],
        "watch": roots_report(config),
        "waiting_partners": waiting_partners(config),
        "store": {"backend": f"SQLite {path}", "exists": False, "shared": False},
        "hosts": [],
        "service": service_state(holder_of(config.state_dir)),
        "held": [],
        "missing_assets": _missing(config),
        "web": web_of(config),
        "pending_answers": pending_answers(read_lines(config.state_dir), time.time()),
    }


def web_of(config: Config) -> dict[str, Any] | None:
    """Where the dashboard and the JSON API answer (None: no `web:` configured)."""
    if config.web is None:
        return None
    host, port = config.web.address
    shown = f"[{host}]" if ":" in host else host
    return {"url": f"http://{shown}:{port}/", "read_only": config.web.token_file is None}


def _missing(config: Config) -> list[dict[str, str]]:
    return [{"rule": r.name, "path": str(p)} for r in config.rules for p in missing_assets(r)]


def roots_report(config: Config) -> list[dict[str, Any]]:
    """Each watch folder: its observer and why, and whether it looks healthy."""
    report = []
    unused = survey(config.rules)[1]
    for root in watch_roots(config):
        problem = ""
        if not root.path.is_dir():
            problem = "missing (unmounted share?)"
        elif not os.access(root.path, os.R_OK | os.X_OK):
            problem = "not readable"
        report.append(
            {
                "path": str(root.path),
                "observer": root.kind,
                "reason": root.reason,
                "ok": not problem,
                "problem": problem,
                "ignored": unused[root.path].count if root.path in unused else 0,
                "ignored_examples": [
                    p.name for p in (unused[root.path].sample if root.path in unused else ())
                ][:5],
                "refused": _refused(root.path),
            }
        )
    return report


def _refused(folder: Path) -> int:
    """Inputs filed in the folder's ``failed/`` (each has its ``NAME.error.json`` beside it)."""
    try:
        return sum(1 for e in os.scandir(folder / FAILED) if not e.name.endswith(".error.json"))
    except OSError:
        return 0


def waiting_partners(config: Config) -> dict[str, list[str]]:
    """For `pairs` rules: files in the watch folder whose partner has not arrived yet, by the
    intake's own pairing decision (``intake.decide``; no file is decoded for this)."""
    out: dict[str, list[str]] = {}
    for rule in config.rules:
        if not isinstance(rule, PairsRule):
            continue
        waiting: dict[str, Path] = {}
        for path in (entry.path for entry in candidates(rule)):
            decision = decide_file(rule, path, None, waiting)
            if isinstance(decision, Wait):
                waiting[decision.stem] = path
            elif isinstance(decision, Make):
                waiting.pop(path.stem, None)
        if waiting:
            out[rule.name] = sorted(p.name for p in waiting.values())
    return out


def why(job: Job, last_detail: str, now: float, held: str | None = None) -> str:
    """The reason a person wants to see: the error, or why it is waiting (``held``: what
    holds new paid work, a pause or a refused key, as ``FlagStore.holding`` says it)."""
    if job.error_message:
        return job.error_message
    if job.state == State.QUEUED and held:
        return f"held ({held})"
    if job.state == State.QUEUED and job.next_attempt_at > now:
        after = f" ({last_detail})" if last_detail else ""
        return f"next try at {iso(job.next_attempt_at)[11:19]} UTC{after}"
    if job.state == State.RENDERING and last_detail.startswith(UNKNOWN_STATUS_NOTE):
        return last_detail  # a status word we do not know: taken as still working
    return ""


def job_summary(
    job: Job, last_detail: str = "", now: float = 0.0, held: str | None = None
) -> dict[str, Any]:
    return {
        "id": job.id,
        "rule": job.rule,
        "state": str(job.state),
        "input": job.source_path,  # what was dropped: a scenes rule's video, a manifest
        "scene": job.spec.scene.path if job.spec.scene else job.spec.scene_key,
        "model": job.spec.model,
        "mode": job.spec.mode,
        "estimate_credits": job.estimate_credits,
        "charged_credits": job.charged_credits,  # null when Viggle's charge is not known
        "charged_how": job.charged_how,  # how it is known, or why not; null before the end
        "viggle_job_id": job.viggle_job_id,
        "progress_pct": job.progress_pct,
        "output": output_now(job),  # in _review/ while it waits there
        "error": job.error_message,
        "why": why(job, last_detail, now, held),
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "host": job.owner,  # the host that holds (or last held) it on a shared store
    }


def gather_status(
    store: JobStore,
    *,
    last: int = 10,
    today: str = "",
    daily_cap: float | None = None,
    now: float = 0.0,
    roots: list[dict[str, Any]] | None = None,
    waiting: dict[str, list[str]] | None = None,
    store_info: dict[str, Any] | None = None,
    hosts: list[Host] | None = None,
    lease_s: float = 60.0,
    held: str | None = None,
) -> dict[str, Any]:
    """Counts for every state, the newest jobs, the watch folders and waiting partners; the
    shape `status --json` prints (keys are only ever added)."""

    holders = store.holders() if hosts else {}

    def summary(job: Job) -> dict[str, Any]:
        events = store.events(job.id)
        return job_summary(job, events[-1].detail if events else "", now, held)

    return {
        "credits": {"today": store.spent_on(today) if today else None, "daily_cap": daily_cap},
        "counts": {str(state): n for state, n in store.counts().items()},
        "jobs": [summary(j) for j in store.latest(limit=last)],
        "uncertain": [summary(j) for j in store.latest(state=State.UNCERTAIN, limit=100)],
        # failed the acceptance gate: held in OUTPUT/_review/ for a person (issue 16)
        "review": [summary(j) for j in store.latest(state=State.REVIEW, limit=100)],
        "watch": roots or [],
        "waiting_partners": waiting or {},
        "store": store_info or {},
        "hosts": [
            {
                "name": h.name,
                "pid": h.pid,
                "started_at": iso(h.started_at),
                "seen_s_ago": round(max(0.0, now - h.seen_at), 1),
                "alive": h.pid != 0 and now - h.seen_at < lease_s,
                "stopped": h.pid == 0,  # stopped cleanly (its jobs were released)
                "holds": sum(1 for owner in holders.values() if owner == h.name),
                "node": h.node,  # the machine its process runs on ("" before schema 8)
                # the last time two processes wanted this name (a refused start, a take-over)
                "conflict": h.conflict or None,
                "conflict_at": iso(h.conflict_at) if h.conflict else None,
            }
            for h in hosts or []
        ],
    }


def service_state(holder: Holder | None) -> dict[str, Any]:
    """Whether the service runs on this state directory, as `status --json` prints it."""
    if holder is None:
        return {"running": False}
    since = iso(holder.since) if holder.since else None
    return {"running": True, "pid": holder.pid, "since": since, "host": holder.host}


def job_detail(job: Job, events: list[Event]) -> dict[str, Any]:
    """Everything `jobs show` prints: the job, its inputs and options, and its whole history."""
    return {
        **job_summary(job),
        "spec": json.loads(job.spec.to_json()),
        "assets": job.assets,
        "attempts": job.attempts,
        "error_code": job.error_code,
        "delivered": delivered(job.output_path),
        "history": [
            {"at": iso(e.at), "from": e.from_state, "to": e.to_state, "detail": e.detail}
            for e in events
        ],
    }


def delivered(output: str | None) -> list[str]:
    """The files `deliver:` made beside the job's video that are there now (the poster and
    thumbnail, ProRes, WebM, the frames' folder); the video itself is ``output``."""
    if not output:
        return []
    return [str(p) for p in delivered_beside(Path(output), KINDS) if p.exists()]
