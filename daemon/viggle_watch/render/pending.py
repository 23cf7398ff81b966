"""What `status` says of the answers from Viggle that wait in this host's journal for the store
(``render.journal``, docs/reliability.md §2.3). Light on purpose (`status` imports it): the
file is read as JSON, nothing else; ``pending_answers`` and ``pending_words`` are pure."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

JOURNAL: Final = "pending-outcomes.jsonl"


def read_lines(state_dir: Path) -> list[str]:
    """The journal's lines (none without a file, or when it cannot be read)."""
    try:
        return (state_dir / JOURNAL).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def pending_answers(lines: Iterable[str], now: float) -> dict[str, Any]:
    """How many answers wait, the oldest's age in seconds (None: none, or no time read), their
    jobs (sorted, once each), and the lines that could not be read."""
    count, unreadable, oldest = 0, 0, None
    jobs: set[int] = set()
    for line in lines:
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            job_id, at = doc["job_id"], doc["at"]
        except (ValueError, KeyError, TypeError):
            unreadable += 1
            continue
        count += 1
        if isinstance(job_id, int) and not isinstance(job_id, bool):
            jobs.add(job_id)
        if isinstance(at, int | float) and not isinstance(at, bool):
            oldest = at if oldest is None else min(oldest, at)
    age = None if oldest is None else round(max(0.0, now - oldest), 1)
    return {"count": count, "oldest_s": age, "jobs": sorted(jobs), "unreadable": unreadable}


def pending_words(pending: dict[str, Any]) -> str | None:
    """One line a person reads, or None when nothing waits."""
    count, bad = int(pending.get("count", 0)), int(pending.get("unreadable", 0))
    if not count and not bad:
        return None
    words = []
    if count:
        answers = (
            "1 answer from Viggle waits" if count == 1 else f"{count} answers from Viggle wait"
        )
        age = pending.get("oldest_s")
        oldest = f" (oldest {age:.0f} s)" if age is not None else ""
        jobs = pending.get("jobs") or []
        which = f": job{'s' if len(jobs) > 1 else ''} {', '.join(map(str, jobs))}" if jobs else ""
        words.append(f"{answers} to be written to the store{oldest}{which}")
    if bad:
        words.append(
            f"{bad} line{'s' if bad > 1 else ''} of {JOURNAL} cannot be read (see the log)"
        )
    return "; ".join(words)
