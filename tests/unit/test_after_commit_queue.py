"""``store.aftercommit``: what waits for the outermost commit, without a database."""

from __future__ import annotations

import pytest

from viggle_watch.store.aftercommit import AfterCommit, run_all


def test_with_no_transaction_open_nothing_is_queued() -> None:
    assert AfterCommit().add(lambda: None) is False


def test_calls_wait_for_the_outermost_commit_and_come_in_order() -> None:
    q, ran = AfterCommit(), []
    q.begin()
    q.add(lambda: ran.append(1))
    q.begin()
    q.add(lambda: ran.append(2))
    assert q.end(committed=True) == []  # a savepoint released: still waiting
    calls = q.end(committed=True)
    run_all(calls)
    assert (ran, q.depth) == ([1, 2], 0)


def test_a_rolled_back_savepoint_drops_only_its_own_calls() -> None:
    q, ran = AfterCommit(), []
    q.begin()
    q.add(lambda: ran.append("outer"))
    q.begin()
    q.add(lambda: ran.append("inner"))
    assert q.end(committed=False) == []
    run_all(q.end(committed=True))
    assert ran == ["outer"]


def test_an_outer_rollback_drops_everything() -> None:
    q = AfterCommit()
    q.begin()
    q.begin()
    q.add(lambda: None)
    q.end(committed=True)
    assert (q.end(committed=False), q.depth) == ([], 0)


def test_one_failing_call_does_not_silence_the_others() -> None:
    ran: list[str] = []

    def bad() -> None:
        raise ValueError("hook broke")

    with pytest.raises(ValueError, match="hook broke"):
        run_all([bad, lambda: ran.append("after")])
    assert ran == ["after"]
