"""`status` shows the first few jobs that wait for a person one by one and counts the rest,
with the command that lists them all: a hundred uncertain jobs must not bury the rest."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from viggle_watch.cli.status import SHOWN, status_view


def job(job_id: int) -> dict[str, Any]:
    return {"id": job_id, "input": f"/in/c{job_id}.png", "error": None, "output": None}


def shown(uncertain: int, listed: int, review: int = 0) -> list[str]:
    status = {
        "counts": {"uncertain": uncertain, "review": review},
        "credits": {"today": None, "daily_cap": None},
        "uncertain": [job(n) for n in range(listed, 0, -1)],
        "review": [job(1000 + n) for n in range(review)],
        "watch": [],
        "waiting_partners": {},
        "jobs": [],
    }
    out = io.StringIO()
    Console(file=out, width=400).print(status_view(status))
    return out.getvalue().splitlines()


def test_a_few_uncertain_jobs_are_each_shown_with_what_to_do() -> None:
    lines = shown(uncertain=SHOWN, listed=SHOWN)
    assert sum("is uncertain" in line for line in lines) == SHOWN
    assert not any("more uncertain" in line for line in lines)


def test_many_are_counted_from_the_counts_not_the_capped_list() -> None:
    lines = shown(uncertain=250, listed=100)  # gather lists at most 100
    assert sum("is uncertain" in line for line in lines) == SHOWN
    assert f"…and {250 - SHOWN} more uncertain jobs: " in "\n".join(lines)
    assert "`viggle-watch jobs list --state uncertain --limit 250` lists them all" in "\n".join(
        lines
    )
    assert "job 100 is uncertain" in lines[1]  # the newest first, as gathered


def test_jobs_to_review_are_capped_the_same_way() -> None:
    lines = shown(uncertain=0, listed=0, review=SHOWN + 3)
    assert sum("needs a look" in line for line in lines) == SHOWN
    assert any(line.startswith("…and 3 more review jobs") for line in lines)
