"""Moving a finished input into ``processed/`` or ``failed/`` inside its watch folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

import structlog

from daemon.outputs.naming import free_path
from daemon.store.jobs import JobStore
from daemon.store.states import TERMINAL, State

log = structlog.get_logger()

PROCESSED: Final = "processed"
FAILED: Final = "failed"


def move_input(src: Path, folder_name: str) -> Path | None:
    """Move ``src`` to ``<its folder>/<folder_name>/`` without overwriting; None if it is gone."""
    if not src.exists():
        return None
    # an input retried from processed/ or failed/ is filed beside them, not inside
    base = src.parent.parent if src.parent.name in (PROCESSED, FAILED) else src.parent
    target_dir = base / folder_name
    if target_dir == src.parent:
        return src
    target_dir.mkdir(exist_ok=True)
    dest = free_path(target_dir, src.stem, src.suffix, lambda p: p.exists())
    src.rename(dest)
    return dest


def archive_source(store: JobStore, source: Path, on_moved: Callable[[Path], None]) -> None:
    """Once every job made from ``source`` has ended, move it to ``processed/`` or ``failed/``.

    ``processed/`` when at least one of its renders is done, ``failed/`` otherwise. The input
    is moved only after the store has committed the jobs' final states (RELIABILITY §1).
    """
    states = store.source_states(str(source))
    if not states or any(s not in TERMINAL for s in states):
        return
    folder = PROCESSED if State.DONE in states else FAILED
    try:
        moved = move_input(source, folder)
    except OSError as exc:
        log.warning("input_not_moved", path=str(source), reason=exc.strerror)
        return
    if moved is not None:
        on_moved(source)
        log.info("input_moved", path=str(source), to=str(moved))
