"""The two-host drill, fast: two real services (processes) on one PostgreSQL store watch one
folder; one is SIGKILLed mid-way and never restarted. The very code of
``bench/drills/twohost.py`` (``tests/support/drills/twohost.py``), at 40 inputs; skips without
PostgreSQL.

``python -m pytest tests/e2e/test_two_host_drill.py -s`` prints the drill's figures.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.drills.twohost import run_twohost
from tests.support.drills.twohost_result import FAST
from viggle_watch.store.states import State


def test_a_killed_host_loses_nothing_and_pays_nothing_twice(tmp_path: Path, pg_url: str) -> None:
    settings = FAST
    result = run_twohost(tmp_path, pg_url, settings, pg="pg_url fixture")
    for line in result.lines():
        print(line)
    states = result.by_state()
    cap = settings.daily_cap
    assert result.ended, result.lines()
    # every input rendered at most once, and no job lost or left half-way
    assert result.duplicates == 0 and max(result.rendered.values()) == 1
    assert result.lost == 0 and len(result.jobs) == settings.inputs
    assert set(states) <= {State.DONE, State.WAITING_BUDGET, State.UNCERTAIN}
    assert not result.unsettled()
    # uncertain only where the dead host was submitting; nothing else left unrendered
    assert not result.stray_uncertain()
    assert set(result.not_rendered) <= {State.WAITING_BUDGET, State.UNCERTAIN}
    # the survivor took the dead host's work over and finished some of it
    assert result.kill.held and any(s == State.RENDERING for s in result.kill.held.values())
    assert len(result.taken_over()) >= 1
    # one daily cap across both hosts: it binds, and holds
    assert result.committed <= cap and result.submissions <= cap and result.charged <= cap
    assert states[State.WAITING_BUDGET] >= 1 and result.committed == cap
    # every done job's output whole and equal to what Viggle served
    assert result.outputs.bad == 0 and result.outputs.verified == states[State.DONE]
