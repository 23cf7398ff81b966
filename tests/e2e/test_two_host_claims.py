"""The two-host drill's claims variant, fast (issue 19 §5): two real services (processes) on one
PostgreSQL store, a rescan an hour away; host-a is frozen while it holds the claim of a file it
has made no job from, then killed. Host-b lets go of its claims at the take-over and renders
that file too, each file once. The very code of ``python -m bench.drills.twohost --claims``
(``tests/support/drills/twohost_claims.py``) at 30 inputs; skips without PostgreSQL.

``python -m pytest tests/e2e/test_two_host_claims.py -s`` prints the drill's figures.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.drills.twohost_claims import FAST_CLAIMS, run_claims
from viggle_watch.store.states import State


def test_a_dead_hosts_claimed_files_are_rendered_by_the_survivor(
    tmp_path: Path, pg_url: str
) -> None:
    result = run_claims(tmp_path, pg_url, FAST_CLAIMS)
    for line in result.lines():
        print(line)
    # host-a died holding the claim of a file it had made no job from
    assert result.catch.caught and result.orphans, result.lines()
    # every one of those was queued (the drill waits up to its deadline; the rescan is an hour
    # away, so only the take-over could bring them back; how long it took is printed)
    assert sorted(result.queued_after) == result.orphans, result.lines()
    assert result.released >= len(result.orphans)
    # every file rendered once, every output whole, nothing left half-way
    assert result.ended and result.never_rendered == [], result.lines()
    assert dict(result.by_state()) == {State.DONE: FAST_CLAIMS.inputs}
    assert (result.duplicates, result.left_submitting()) == (0, 0)
    assert result.outputs.bad == 0 and result.outputs.verified == FAST_CLAIMS.inputs
