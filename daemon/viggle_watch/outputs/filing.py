"""Filing inputs away once their jobs end: `processed/`, `Source/<date>/`, or not at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from viggle_watch.clock import day_of
from viggle_watch.outputs.atomic import write_bytes_atomic
from viggle_watch.outputs.failure import FAILED, PROCESSED, SOURCE, failure_document
from viggle_watch.outputs.naming import free_path
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import TERMINAL, State

log = structlog.get_logger()


def watch_base(src: Path) -> Path:
    """The watch folder an input belongs to, even when it was filed away and retried."""
    parent = src.parent
    if parent.name in (PROCESSED, FAILED):
        return parent.parent
    if parent.parent.name == SOURCE:
        return parent.parent.parent
    return parent


def move_input(src: Path, folder: str) -> Path | None:
    """Move ``src`` (a file or a job folder) to ``<watch>/<folder>/`` without overwriting."""
    if not src.exists():
        return None
    target_dir = watch_base(src) / folder
    if target_dir == src.parent:
        return src
    target_dir.mkdir(parents=True, exist_ok=True)
    suffix = "".join(src.suffixes[-2:]) if src.name.lower().endswith(".job.yaml") else src.suffix
    stem = src.name[: len(src.name) - len(suffix)] if suffix else src.name
    dest = free_path(target_dir, stem, suffix, lambda p: p.exists())
    src.rename(dest)
    return dest


def done_folder(policy: str, day: str) -> str:
    return f"{SOURCE}/{day}" if policy == "source" else PROCESSED


def archive_source(
    store: JobStore,
    source: Path,
    *,
    policy: str,
    at: float,
    on_moved: Callable[[Path], None],
) -> None:
    """Once every job made from ``source`` has ended, file it by the rule's ``inputs`` policy.

    Done (at least one render): ``processed/`` or ``Source/<day>/``; otherwise ``failed/``.
    ``leave`` never moves anything (read-only shares). The move happens only after the store
    has committed the jobs' final states (docs/reliability.md §1).
    """
    jobs = store.source_jobs(str(source))
    states = [job.state for job in jobs]
    if policy == "leave" or not states or any(s not in TERMINAL for s in states):
        return
    folder = done_folder(policy, day_of(at)) if State.DONE in states else FAILED
    try:
        moved = move_input(source, folder)
        if moved is not None and folder == FAILED:  # why, beside it, as for a refused input
            write_error(moved, _why_jobs_ended(source, jobs, at))
        elif moved is not None and moved != source and source.parent.name == FAILED:
            # retried from failed/ and rendered: its old "why it failed" is untrue now
            source.with_name(error_name(source.name)).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("input_not_moved", path=str(source), reason=exc.strerror)
        return
    if moved is not None:
        on_moved(source)
        log.info("input_moved", path=str(source), to=str(moved))


def _why_jobs_ended(source: Path, jobs: list[Job], at: float) -> dict[str, object]:
    """An input all of whose jobs failed or were cancelled: the last one's reason, and each."""
    last = max(jobs, key=lambda job: job.updated_at)
    ended = [
        {"job": j.id, "state": str(j.state), "code": j.error_code, "reason": j.error_message}
        for j in jobs
    ]
    reason = last.error_message or f"its job was {last.state}"
    return failure_document(
        source, last.error_code or str(last.state), reason, {"jobs": ended}, rule=last.rule, at=at
    )


def write_error(moved: Path, document: dict[str, object]) -> None:
    error = moved.with_name(error_name(moved.name))
    write_bytes_atomic(error, (json.dumps(document, indent=2) + "\n").encode())


def error_name(name: str) -> str:
    """``NAME.error.json``, with NAME cut so that the temp file still fits in 255 bytes."""
    room = 255 - len(".error.json.part")
    base = name.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return f"{base}.error.json"


def reject_input(source: Path, document: dict[str, Any], *, policy: str) -> Path | None:
    """A bad input: to ``failed/`` with ``NAME.error.json`` saying why (left alone if
    ``leave``). Never deleted."""
    if policy == "leave":
        return None
    moved = move_input(source, FAILED)
    if moved is not None:
        write_error(moved, document)
    return moved
