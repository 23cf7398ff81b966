"""The two-host drill's same-name variant, fast (issue 19 §3): a third ``viggle-watch run``
under host-a's ``store.host`` is refused while host-a lives (its lock held, and after a blip
dropped the lock), takes the name once host-a has been stopped past the lease, and the woken
host-a stops with exit 75. The very code of ``python -m bench.drills.twohost --same-name``
(``tests/support/drills/twohost_name.py``); skips without PostgreSQL.

``python -m pytest tests/e2e/test_two_host_same_name.py -s`` prints the drill's figures.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.drills.twohost_name import FAST_NAME, VICTIM, run_same_name
from viggle_watch.store.states import State


def test_a_second_process_under_one_name_is_refused_or_ends_the_first(
    tmp_path: Path, pg_url: str
) -> None:
    result = run_same_name(tmp_path, pg_url, FAST_NAME)
    for line in result.lines():
        print(line)
    assert result.ended, result.lines()
    # refused while host-a lives, with or without its lock; named by its pid
    assert (result.live.code, result.blip.code) == (75, 75), result.lines()
    assert "another viggle-watch (pid " in result.live.said
    assert "held by another running viggle-watch: pid " in result.blip.said
    # a host-a stopped past the lease: the name is taken; the woken one stops (exit 75)
    assert (result.taken.code, result.woken_code, result.lost_logged) == (None, 75, True)
    assert f"on {os.uname()[1]} lost this name" in result.conflict
    # nothing paid twice, no output corrupt, nothing left half-way
    assert result.duplicates == 0 and result.left_submitting() == 0
    assert result.outputs.bad == 0
    assert result.outputs.verified == result.by_state()[State.DONE] >= 1
    assert VICTIM == "host-a"
