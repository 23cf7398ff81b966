"""What `viggle-watch status` shows: gathered from the store, rendered for people or scripts."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from viggle_watch.app.lock import Holder
from viggle_watch.clock import iso
from viggle_watch.store.hosts import Host
from viggle_watch.store.jobs import Event, Job, JobStore
from viggle_watch.store.states import State

_STYLE = {
    State.DONE: "green",
    State.FAILED: "red",
    State.UNCERTAIN: "bold red",
    State.RENDERING: "cyan",
    State.DOWNLOADING: "cyan",
    State.SUBMITTING: "yellow",
    State.WAITING_BUDGET: "yellow",
}


def _why(job: Job, last_detail: str, now: float) -> str:
    """The reason a person wants to see: the error, or why it is waiting."""
    if job.error_message:
        return job.error_message
    if job.state == State.QUEUED and job.next_attempt_at > now:
        return f"next try at {iso(job.next_attempt_at)[11:19]} UTC ({last_detail})"
    return ""


def _job_summary(job: Job, last_detail: str = "", now: float = 0.0) -> dict[str, Any]:
    return {
        "id": job.id,
        "rule": job.rule,
        "state": str(job.state),
        "input": job.spec.character.path,
        "scene": job.spec.scene.path if job.spec.scene else job.spec.scene_key,
        "model": job.spec.model,
        "mode": job.spec.mode,
        "estimate_credits": job.estimate_credits,
        "viggle_job_id": job.viggle_job_id,
        "progress_pct": job.progress_pct,
        "output": job.output_path,
        "error": job.error_message,
        "why": _why(job, last_detail, now),
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
) -> dict[str, Any]:
    """Counts for every state, the newest jobs, the watch folders and waiting partners; the
    shape `status --json` prints (keys are only ever added)."""

    holders = store.holders() if hosts else {}

    def summary(job: Job) -> dict[str, Any]:
        events = store.events(job.id)
        return _job_summary(job, events[-1].detail if events else "", now)

    return {
        "credits": {"today": store.spent_on(today) if today else None, "daily_cap": daily_cap},
        "counts": {str(state): n for state, n in store.counts().items()},
        "jobs": [summary(j) for j in store.latest(limit=last)],
        "uncertain": [summary(j) for j in store.latest(state=State.UNCERTAIN, limit=100)],
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
            }
            for h in hosts or []
        ],
    }


def status_view(status: dict[str, Any]) -> Group:
    """Everything `status` shows, as rich renderables (printed once, or refreshed live)."""
    parts: list[RenderableType] = []
    counts = status["counts"]
    line = ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no jobs yet"
    parts.append(Text.from_markup(f"[bold]viggle-watch[/bold]: {line}"))
    service = status.get("service")
    if service is not None:
        parts.append(Text.from_markup(_service_line(service)))
    parts.extend(Text.from_markup(_held_line(h)) for h in status.get("held", []))
    credits = status["credits"]
    if credits["today"] is not None:
        cap = credits["daily_cap"]
        of_cap = f" of the {cap:g} daily cap" if cap is not None else " (no daily cap)"
        parts.append(Text(f"credits committed today: {credits['today']:g}{of_cap}"))
    for job in status["uncertain"]:
        parts.append(
            Text.from_markup(
                f"[bold red]job {job['id']} is uncertain[/bold red]: Viggle may or may not have "
                f"accepted (and charged) it. Check the Viggle dashboard for "
                f"{escape(job['input'])}, then `viggle-watch jobs resolve {job['id']} --viggle-job "
                f"ID` or `jobs retry {job['id']} --force`."
            )
        )
    info = status.get("store") or {}
    if info.get("shared"):
        parts.append(Text(f"store: {info['backend']}; this is host {info['host']}"))
    hosts = status.get("hosts", [])
    parts.extend(_host_lines(hosts))
    parts.extend(_watch_line(root) for root in status["watch"])
    for asset in status.get("missing_assets", []):
        parts.append(
            Text.from_markup(
                f"rule {escape(asset['rule'])}: [red]{escape(asset['path'])} is missing[/red]; "
                "its inputs wait and are taken once it is back"
            )
        )
    for rule, files in status["waiting_partners"].items():
        parts.append(Text(f"rule {rule}: waiting for a partner: {', '.join(files)}"))
    if status["jobs"]:
        parts.append(_jobs_table(status["jobs"], hosts=bool(info.get("shared"))))
    return Group(*parts)


def _host_lines(hosts: list[dict[str, Any]]) -> list[Text]:
    """Each host sharing the store: up, stopped, or silent (and who takes its jobs)."""
    lines = []
    for host in hosts:
        others = any(h["alive"] and h["name"] != host["name"] for h in hosts)
        after = "taken over by the others" if others else "waiting for a host to take them"
        if host.get("stopped"):
            state = f"stopped {host['seen_s_ago']:g} s ago"
        elif host["alive"]:
            state = f"[green]up[/green], seen {host['seen_s_ago']:g} s ago"
        else:
            state = f"[red]silent for {host['seen_s_ago']:g} s[/red]: its jobs are {after}"
        lines.append(
            Text.from_markup(f"host {escape(host['name'])}: {state}, holds {host['holds']} job(s)")
        )
    return lines


def service_state(holder: Holder | None) -> dict[str, Any]:
    """Whether the service runs on this state directory, as `status --json` prints it."""
    if holder is None:
        return {"running": False}
    since = iso(holder.since) if holder.since else None
    return {"running": True, "pid": holder.pid, "since": since, "host": holder.host}


def _watch_line(root: dict[str, Any]) -> Text:
    health = "[green]ok[/green]" if root["ok"] else f"[red]{root['problem']}[/red]"
    line = f"watch {escape(root['path'])}: {root['observer']} ({escape(root['reason'])}); {health}"
    ignored: int = root.get("ignored") or 0
    if ignored:
        examples = root.get("ignored_examples") or []
        shown = ", ".join(examples[:3]) + (", …" if ignored > 3 else "")
        line += (
            f"; [yellow]{ignored} file(s) ignored[/yellow]: not an image or video this "
            f"folder's rules use ({escape(shown)})"
        )
    return Text.from_markup(line)


def _held_line(held: dict[str, Any]) -> str:
    what = {
        "paused": "paused",
        "key_refused": "API key refused by Viggle — submissions paused",
    }.get(held["flag"], held["flag"])
    return (
        f"[bold red]{what}[/bold red] since {held['since']} ({escape(held['reason'])}): "
        "nothing new is submitted or preprocessed; polls and downloads go on"
    )


def _service_line(service: dict[str, Any]) -> str:
    if not service["running"]:
        return "service: [yellow]not running[/yellow] on this state directory"
    since = f" since {service['since']}" if service.get("since") else ""
    return f"service: [green]running[/green]{since} (pid {service['pid']})"


def _jobs_table(jobs: list[dict[str, Any]], *, hosts: bool = False) -> Table:
    table = Table(title="latest jobs")
    columns = ["id", "rule", "state", "progress", "input", "output / why"]
    for column in (*columns[:3], *(["host"] if hosts else []), *columns[3:]):
        table.add_column(column)
    for job in jobs:
        state = State(job["state"])
        pct = job["progress_pct"] if state in (State.RENDERING, State.DOWNLOADING) else None
        progress: RenderableType = ""
        if pct is not None:
            progress = ProgressBar(total=100, completed=pct, width=20)
        table.add_row(
            str(job["id"]),
            job["rule"],
            f"[{_STYLE.get(state, 'white')}]{state}[/]",
            *([escape(job.get("host") or "")] if hosts else []),
            progress,
            escape(job["input"].rsplit("/", 1)[-1]),
            escape(job["why"] or job["output"] or ""),
        )
    return table


def print_status(status: dict[str, Any], console: Console) -> None:
    console.print(status_view(status))


def job_detail(job: Job, events: list[Event]) -> dict[str, Any]:
    """Everything `jobs show` prints: the job, its inputs and options, and its whole history."""
    return {
        **_job_summary(job),
        "spec": json.loads(job.spec.to_json()),
        "assets": job.assets,
        "attempts": job.attempts,
        "error_code": job.error_code,
        "history": [
            {"at": iso(e.at), "from": e.from_state, "to": e.to_state, "detail": e.detail}
            for e in events
        ],
    }


def print_job_detail(detail: dict[str, Any], console: Console) -> None:
    state = State(detail["state"])
    console.print(
        f"[bold]job {detail['id']}[/bold] rule {detail['rule']}: "
        f"[{_STYLE.get(state, 'white')}]{state}[/]"
    )
    spec = detail["spec"]
    console.print(f"  character  {spec['character']['path']}  sha256 {spec['character']['sha256']}")
    scene = spec.get("scene")
    console.print(f"  scene      {scene['path'] if scene else detail['scene']}")
    console.print(
        f"  model {spec['model']}, mode {spec['mode']}, options {spec['options']}, "
        f"estimate {detail['estimate_credits']:g} credits, attempts {detail['attempts']}"
    )
    if detail["viggle_job_id"]:
        console.print(f"  viggle job {detail['viggle_job_id']}")
    if detail["output"]:
        console.print(f"  output     {detail['output']}")
    if detail["error"]:
        code = f" ({detail['error_code']})" if detail["error_code"] else ""
        console.print(f"  [red]why: {detail['error']}[/red]{code}")
    table = Table(title="history")
    for column in ("at", "from", "to", "detail"):
        table.add_column(column)
    for event in detail["history"]:
        table.add_row(event["at"], event["from"] or "", event["to"], event["detail"])
    console.print(table)
