"""What `viggle-watch status` shows: gathered from the store, rendered for people or scripts."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from daemon.clock import iso
from daemon.store.jobs import Job, JobStore
from daemon.store.states import State

_STYLE = {
    State.DONE: "green",
    State.FAILED: "red",
    State.UNCERTAIN: "bold red",
    State.RENDERING: "cyan",
    State.DOWNLOADING: "cyan",
    State.SUBMITTING: "yellow",
    State.WAITING_BUDGET: "yellow",
}


def _job_summary(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "rule": job.rule,
        "state": str(job.state),
        "input": job.spec.character.path,
        "scene": job.spec.scene.path,
        "model": job.spec.model,
        "viggle_job_id": job.viggle_job_id,
        "progress_pct": job.progress_pct,
        "output": job.output_path,
        "error": job.error_message,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
    }


def gather_status(store: JobStore, *, last: int = 10) -> dict[str, Any]:
    """Counts for every state and the newest jobs; the shape `status --json` prints."""
    return {
        "counts": {str(state): n for state, n in store.counts().items()},
        "jobs": [_job_summary(j) for j in store.latest(limit=last)],
        "uncertain": [_job_summary(j) for j in store.latest(state=State.UNCERTAIN, limit=100)],
    }


def print_status(status: dict[str, Any], console: Console) -> None:
    counts = status["counts"]
    line = ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no jobs yet"
    console.print(f"[bold]viggle-watch[/bold]: {line}")
    for job in status["uncertain"]:
        console.print(
            f"[bold red]job {job['id']} is uncertain[/bold red]: Viggle may or may not have "
            f"accepted (and charged) it. Check the Viggle dashboard for {job['input']}, then "
            f"`viggle-watch jobs resolve {job['id']} --viggle-job ID` or `jobs retry "
            f"{job['id']} --force`."
        )
    if not status["jobs"]:
        return
    table = Table(title="latest jobs")
    for column in ("id", "rule", "state", "progress", "input", "output / error"):
        table.add_column(column)
    for job in status["jobs"]:
        state = State(job["state"])
        pct = job["progress_pct"]
        table.add_row(
            str(job["id"]),
            job["rule"],
            f"[{_STYLE.get(state, 'white')}]{state}[/]",
            "" if pct is None else f"{pct:.0f}%",
            job["input"].rsplit("/", 1)[-1],
            job["error"] or job["output"] or "",
        )
    console.print(table)
