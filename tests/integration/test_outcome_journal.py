"""The local journal of answers the store has not taken yet (``render.journal``): what is
saved is what is read back, in order; an empty list leaves no file; a line that cannot be
read is said in the log with its text (its Viggle id is not lost) and the others still load."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.support.logs import logs_into
from viggle_watch.render.journal import JOURNAL, Journal
from viggle_watch.render.unrecorded import Unrecorded
from viggle_watch.store.states import State

T0 = 1_700_000_000.0


def answer(job_id: int, viggle_job_id: str) -> Unrecorded:
    fields = {"viggle_job_id": viggle_job_id, "render_started_at": T0, "next_attempt_at": T0 + 4}
    return Unrecorded(job_id, 1, State.RENDERING, f"viggle job {viggle_job_id}", T0, fields)


def test_saved_answers_are_read_back_in_order_and_none_leaves_no_file(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state" / JOURNAL)
    kept = [answer(2, "vj-2"), answer(1, "vj-1")]
    journal.save(kept)
    mode = journal.path.stat().st_mode & 0o777
    back = journal.load()
    journal.save([])
    assert (back, mode, journal.path.exists(), journal.load()) == (kept, 0o640, False, [])
    assert [p.name for p in journal.path.parent.iterdir()] == []  # no temp file left either


def test_an_unreadable_line_is_logged_with_its_text_and_the_rest_loads(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL)
    good = json.dumps(answer(1, "vj-1").as_json())
    journal.path.write_text(f'{good}\n{{"job_id": 2, "viggle_job_id": "vj-2"\n\n', "utf-8")
    with logs_into(io.StringIO()) as out:
        loaded = journal.load()
    said = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a.viggle_job_id for a in loaded] == ["vj-1"]
    assert [(e["event"], e["line"], "vj-2" in e["text"]) for e in said] == [
        ("outcome_journal_line_unreadable", 2, True)
    ]
