"""The other hosts' changes on the event stream, its pure parts: reading the job history in
order despite ids committed out of order (``store.moves.advance``), which rows are told, and
the event told — the same as the host that made the change tells it, plus the host."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.support.store import make_spec
from viggle_watch.notify.events import Event, job_event
from viggle_watch.store.jobs import Job
from viggle_watch.store.moves import HOLE_WAIT_S, MAX_HOLES, Cursor, Move, advance
from viggle_watch.store.states import State
from viggle_watch.web.other_hosts import other_host_event, told, watch_both

T0 = 1_700_000_000.0


def make_job(**overrides: Any) -> Job:
    """A job that has just been downloaded to ``/out/dance/hero__dance.mp4``."""
    job = Job(
        id=7,
        rule="dance",
        state=State.DOWNLOADING,
        dedup_key="k",
        source_path="/in/hero.png",
        spec=make_spec(),
        viggle_job_id="job_abc",
        progress_pct=100.0,
        checkpoint=None,
        result_url=None,
        output_path="/out/dance/hero__dance.mp4",
        output_sha256="c" * 64,
        output_size=999,
        error_code=None,
        error_message=None,
        attempts=1,
        next_attempt_at=0.0,
        created_at=T0,
        updated_at=T0 + 60,
        estimate_credits=3.0,
        assets={},
        mask_url=None,
        mask_path=None,
        mask_sha256=None,
        mask_size=None,
        render_started_at=T0 + 2,
    )
    return dataclasses.replace(job, **overrides)


def move(to: State, came_from: State | None = State.DOWNLOADING, host: str | None = "beta") -> Move:
    return Move(41, 7, T0 + 61, came_from, to, host)


class TestAdvance:
    def test_rows_in_order_move_the_top_and_leave_no_hole(self) -> None:
        """Ids read without a gap: all are new, the top is the last, nothing is awaited."""
        assert advance(Cursor(10), [11, 12, 13], T0) == (Cursor(13, {}), [11, 12, 13])

    def test_an_id_committed_late_is_awaited_then_read_once(self) -> None:
        """12 is not visible yet when 13 is: a hole, asked for again; it is new when it comes,
        and neither is new twice."""
        later, fresh = advance(Cursor(11), [13], T0)
        assert (later, fresh) == (Cursor(13, {12: T0}), [13])
        last, fresh = advance(later, [12, 13, 14], T0 + 1)
        assert (last, fresh) == (Cursor(14, {}), [12, 14])

    def test_a_hole_is_given_up_after_the_wait(self) -> None:
        """A rolled-back transaction's id never comes: after HOLE_WAIT_S it is not asked for."""
        waiting, _ = advance(Cursor(11), [13], T0)
        assert advance(waiting, [], T0 + HOLE_WAIT_S - 1)[0] == waiting
        assert advance(waiting, [], T0 + HOLE_WAIT_S) == (Cursor(13, {}), [])

    def test_a_jump_of_ids_keeps_only_the_newest_holes(self) -> None:
        """Ids that jump far (many rolled back) do not make an endless list to ask for."""
        cursor, fresh = advance(Cursor(0), [10_000], T0)
        assert (fresh, len(cursor.holes), min(cursor.holes)) == (
            [10_000],
            MAX_HOLES,
            10_000 - MAX_HOLES,
        )


class TestTold:
    def test_another_hosts_change_into_an_evented_state_is_told(self) -> None:
        """done, failed, uncertain, review by another host: told; by this host: not (it told
        them itself); rows without a host (before schema 7): not."""
        ends = [State.DONE, State.FAILED, State.UNCERTAIN, State.REVIEW]
        assert [told(move(s), "alpha") for s in ends] == [True] * 4
        assert [told(move(State.DONE, host=h), "alpha") for h in ("alpha", None)] == [False] * 2

    def test_states_without_an_event_and_notes_are_not_told(self) -> None:
        """queued, rendering, an enqueue, and a note or take-over (the state unchanged)."""
        rows = [
            move(State.RENDERING, State.SUBMITTING),
            move(State.QUEUED, None),
            move(State.DONE, State.DONE),
            move(State.REVIEW, State.REVIEW),
        ]
        assert [told(r, "alpha") for r in rows] == [False] * 4


def test_the_event_is_the_one_its_host_tells_with_the_host_added() -> None:
    """Same name, title, body, time, rule, job and figures as ``job_event`` makes on the host
    that moved the job; ``data.host`` names that host."""
    job = make_job()  # as it is read now: the move was into review
    event = other_host_event(move(State.REVIEW), job)
    assert event is not None
    theirs = job_event(dataclasses.replace(job, state=State.REVIEW), T0 + 61)
    assert theirs is not None
    ours = {**event.as_json(), "id": None}
    assert ours == {**theirs.as_json(), "id": None, "data": {**theirs.data, "host": "beta"}}
    assert (event.name, event.data["output"]) == ("review", "/out/dance/_review/hero__dance.mp4")


def test_a_job_gone_from_the_store_tells_nothing() -> None:
    """The job is read after the move; if it cannot be, there is nothing to say."""
    assert other_host_event(move(State.DONE), None) is None


def test_both_watches_hand_over_and_let_go_together() -> None:
    """A watcher gets the events of both sources; its unwatch ends both."""
    watchers: dict[str, list[Any]] = {"a": [], "b": []}

    def source(name: str) -> Any:
        def watch(watcher: Any) -> Any:
            watchers[name].append(watcher)
            return lambda: watchers[name].remove(watcher)

        return watch

    got: list[Event] = []
    unwatch = watch_both(source("a"), source("b"))(got.append)
    sent = [Event("done", "x", "", T0), Event("failed", "y", "", T0)]
    watchers["a"][0](sent[0])
    watchers["b"][0](sent[1])
    unwatch()
    assert (got, watchers) == (sent, {"a": [], "b": []})
