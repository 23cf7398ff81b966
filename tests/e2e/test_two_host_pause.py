"""The two-host drill's pause variant, fast (issue 19 §1): two real services (processes) on one
PostgreSQL store; one is SIGSTOPped in the middle of a download, stays stopped past its lease
while the other takes its jobs over and finishes them, then gets SIGCONT. The very code of
``python -m bench.drills.twohost --pause`` (``tests/support/drills/twohost_pause.py``).

``python -m pytest tests/e2e/test_two_host_pause.py -s`` prints the drill's figures.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.drills.twohost_pause import FAST_PAUSE, run_pause
from viggle_watch.store.states import State


def test_a_host_woken_from_a_long_pause_corrupts_no_finished_output(
    tmp_path: Path, pg_url: str
) -> None:
    result = run_pause(tmp_path, pg_url, FAST_PAUSE)
    for line in result.lines():
        print(line)
    assert result.ended, result.lines()
    assert result.by_state() == {State.DONE: FAST_PAUSE.inputs}, result.lines()
    # it was stopped mid-download, past its lease, and the other host finished its downloads
    assert len(result.held) >= FAST_PAUSE.downloads
    assert result.stopped_s > FAST_PAUSE.lease_s
    assert result.finished_by_other == len(result.held)
    # woken, it touched none of them: every output whole, equal to its sidecar and to what
    # Viggle served, none replaced or rewritten, no stray output, no part file left
    assert (result.differ, result.touched, result.outputs.bad) == ([], [], 0), result.lines()
    assert result.outputs.verified == FAST_PAUSE.inputs
    # it found out, and said so
    assert any(result.lost_logged[j] for j in result.held), result.lines()
    assert (result.duplicates, result.left_submitting) == (0, 0)
