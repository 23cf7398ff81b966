"""At 80 columns (a pipe, a small terminal) the tables of `status` and `jobs show` keep every
name whole: a long input or output name wraps instead of ending in "…", the output column
shows the file's name (its folder is the rule's), and a history time is kept to the second."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from tests.support.views import job_detail_doc
from viggle_watch.cli.status import print_job_detail, status_view

LONG = "a-character-with-a-rather-long-file-name-from-the-editors.png"
OUTPUT = "/srv/viggle/projects/client-x/renders/out/a-character-with-a-long-name__dance.mp4"


def columns(render: Any) -> list[str]:
    """Each column of the table's body, its wrapped lines joined again."""
    out = io.StringIO()
    Console(file=out, width=80).print(render)
    rows = [line.split("│")[1:-1] for line in out.getvalue().splitlines() if line.startswith("│")]
    return ["".join(row[i].strip() for row in rows) for i in range(len(rows[0]))]


def test_status_keeps_long_names_whole_and_shows_the_outputs_name() -> None:
    job = {"id": 1, "rule": "dance", "state": "done", "progress_pct": None}
    status = {
        "counts": {"done": 1},
        "credits": {"today": None, "daily_cap": None},
        "uncertain": [],
        "watch": [],
        "waiting_partners": {},
        "jobs": [{**job, "input": f"/in/{LONG}", "output": OUTPUT, "why": None}],
    }
    assert columns(status_view(status))[-2:] == [LONG, "a-character-with-a-long-name__dance.mp4"]


def test_job_history_times_are_whole_to_the_second() -> None:
    history = {
        "at": "2026-12-07T15:19:54.581234Z",
        "from": "queued",
        "to": "submitting",
        "detail": "submitted as a render of a rather long character name, with a scene",
    }
    detail = job_detail_doc(output=OUTPUT, history=[history])
    out = io.StringIO()
    print_job_detail(detail, Console(file=out, width=80))
    assert "2026-12-07 15:19:54" in out.getvalue() and "…" not in out.getvalue()
