"""The two-host drill's blip variant, fast: two real services (processes) on one PostgreSQL
store, reached through a forwarder that is cut for 3 s while paid requests are on their way,
twice. The code of ``python -m bench.drills.twohost --blip`` (``tests/support/drills/
twohost_blip.py``) at 24 inputs; skips without PostgreSQL.

``python -m pytest tests/e2e/test_two_host_blip.py -s`` prints the drill's figures.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.drills.twohost_blip import FAST_BLIP, run_blip
from viggle_watch.store.states import State


def test_a_store_blip_during_submissions_leaves_no_job_in_submitting(
    tmp_path: Path, pg_url: str
) -> None:
    result = run_blip(tmp_path, pg_url, FAST_BLIP)
    for line in result.lines():
        print(line)
    states = result.by_state()
    assert result.ended, result.lines()
    # the blips came while jobs were submitting (how many answers they caught on their way
    # depends on timing: printed, not asserted; tests/integration/test_store_blip.py cuts
    # exactly after the paid POSTs)
    assert result.aimed, result.lines()
    assert (result.left_submitting(), states[State.UNCERTAIN], result.journals_left) == (0, 0, 0)
    assert dict(states) == {State.DONE: FAST_BLIP.inputs}
    # nothing paid twice; every output whole and equal to what Viggle served
    assert (result.duplicates, result.submissions) == (0, FAST_BLIP.inputs)
    assert result.outputs.bad == 0 and result.outputs.verified == FAST_BLIP.inputs
