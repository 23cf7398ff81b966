"""A file filed in ``failed/`` as cut off (``unreadable``, ``empty_file``: a copy that stalled
longer than its grace) whose copy went on after all — it grew there, the copier still had it
open — is judged again: moved back into its watch folder, its ``NAME.error.json`` removed
(issue 13 §8). Only recent error files are read (a day), so an old ``failed/`` costs a listing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from viggle_watch.config import Rule
from viggle_watch.outputs.failure import FAILED
from viggle_watch.outputs.filing import move_input
from viggle_watch.reading import read_capped

RECENT_S: Final = 24 * 3600.0
CUT_OFF_CODES: Final = frozenset({"unreadable", "empty_file"})
ERROR_SUFFIX: Final = ".error.json"


def grown_in_failed(rule: Rule, now: float) -> list[tuple[Path, Path]]:
    """(input, its error file) for each input in the rule's ``failed/`` filed as cut off
    within ``RECENT_S`` whose size is no longer the one it was judged at."""
    folder = rule.watch / FAILED
    try:
        errors = [p for p in folder.iterdir() if p.name.endswith(ERROR_SUFFIX)]
    except OSError:
        return []
    grown = []
    for error in errors:
        try:
            if now - error.stat().st_mtime > RECENT_S:
                continue
            doc = json.loads(read_capped(error, 64 * 1024) or b"{}")
            judged_size = int(doc.get("detail", {}).get("size", -1))
            if doc.get("code") not in CUT_OFF_CODES or judged_size < 0:
                continue
            found = error.with_name(error.name.removesuffix(ERROR_SUFFIX))
            if found.is_file() and found.stat().st_size != judged_size:
                grown.append((found, error))
        except (OSError, ValueError, AttributeError):
            continue  # unreadable or not ours: leave it
    return grown


def take_back(found: Path, error: Path) -> Path | None:
    """Move ``found`` back into its watch folder (never over another file) and drop its error
    file; where it went, or None when it could not be moved."""
    try:
        back = move_input(found, "")
    except OSError:
        return None
    error.unlink(missing_ok=True)
    return back
