"""The answers to paid requests that the store has not taken yet, their pure parts
(``render.unrecorded``): what each answer writes, what a kept answer does given its job as it
now stands (written once, never twice, never onto a newer attempt), the journal's lines, and
when a submission with no answer on its way is overdue."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.support.store import make_spec
from viggle_watch.render.outcomes import Next, Outcome
from viggle_watch.render.retry import BUDGET_RECHECK_S
from viggle_watch.render.unrecorded import (
    NOT_SENT_RETRY_S,
    Decision,
    Unrecorded,
    Verdict,
    accepted,
    decide,
    late_detail,
    not_sent,
    overdue,
    refused,
)
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.states import State

T0 = 1_700_000_000.0


def make_job(**overrides: Any) -> Job:
    """Job 7, its second attempt's intent just written (``submitting``)."""
    job = Job(
        id=7,
        rule="dance",
        state=State.SUBMITTING,
        dedup_key="k",
        source_path="/in/hero.png",
        spec=make_spec(),
        viggle_job_id=None,
        progress_pct=None,
        checkpoint=None,
        result_url=None,
        output_path=None,
        output_sha256=None,
        output_size=None,
        error_code=None,
        error_message=None,
        attempts=2,
        next_attempt_at=T0,
        created_at=T0 - 100,
        updated_at=T0,
        estimate_credits=1.0,
        assets={},
        mask_url=None,
        mask_path=None,
        mask_sha256=None,
        mask_size=None,
        render_started_at=None,
        owner="alpha",
    )
    return dataclasses.replace(job, **overrides)


ANSWER = accepted(make_job(), "vj-1", T0 + 3, 4.0, credits=1.0)
REFUSAL = refused(make_job(), Outcome(Next.FAIL, "bad input [CS-1]", "CS-1"), "bad", T0 + 3)
INTENT = make_job(state=State.PREPARING, attempts=1)  # before the intent of attempt 2


def event(answer: Unrecorded, src: State = State.SUBMITTING, **changes: Any) -> Event:
    return dataclasses.replace(Event(answer.at, src, answer.dst, answer.detail), **changes)


class TestWhatEachAnswerWrites:
    def test_an_accepted_render_is_rendering_with_its_id_polled_after_the_interval(self) -> None:
        assert (ANSWER.dst, ANSWER.attempt, ANSWER.detail, dict(ANSWER.fields), ANSWER.refund) == (
            State.RENDERING,
            2,
            "viggle job vj-1",
            {"viggle_job_id": "vj-1", "render_started_at": T0 + 3, "next_attempt_at": T0 + 7},
            False,
        )

    @pytest.mark.parametrize(
        ("outcome", "dst", "refund", "fields"),
        [
            (
                Outcome(Next.RETRY, "429", delay_s=6.0),
                State.QUEUED,
                True,
                {"next_attempt_at": T0 + 6},
            ),
            (Outcome(Next.RECREATE, "stale"), State.QUEUED, True, {"next_attempt_at": T0}),
            (
                Outcome(Next.WAIT_BUDGET, "402"),
                State.WAITING_BUDGET,
                True,
                {"error_message": "402", "next_attempt_at": T0 + BUDGET_RECHECK_S},
            ),
            (
                Outcome(Next.FAIL, "400", "CS-1"),
                State.FAILED,
                True,
                {"error_message": "400", "error_code": "CS-1"},
            ),
            (
                Outcome(Next.UNCERTAIN, "outcome unknown: 502"),
                State.UNCERTAIN,
                False,
                {"error_message": "HTTP 502"},
            ),
        ],
    )
    def test_every_other_answer_goes_where_the_table_says(
        self, outcome: Outcome, dst: State, refund: bool, fields: dict[str, Any]
    ) -> None:
        """Only an answer that proves nothing was charged gives the credits back (§2.4)."""
        answer = refused(make_job(), outcome, "HTTP 502", T0)
        assert (answer.dst, answer.refund, dict(answer.fields), answer.sent) == (
            dst,
            refund,
            fields,
            True,
        )

    def test_an_intent_whose_write_failed_answers_the_attempt_it_would_have_made(self) -> None:
        answer = not_sent(INTENT, T0, "the store failed")
        assert (answer.attempt, answer.dst, answer.refund, answer.sent, answer.detail) == (
            2,
            State.QUEUED,
            True,
            False,
            "not sent: the store failed",
        )
        assert answer.fields == {"next_attempt_at": T0 + NOT_SENT_RETRY_S}


class TestDecide:
    def test_a_job_still_waiting_for_its_answer_gets_it(self) -> None:
        assert decide(ANSWER, make_job(), []) == Decision(
            Verdict.WRITE, State.SUBMITTING, "viggle job vj-1"
        )

    def test_a_write_whose_acknowledgement_was_lost_is_recognised_not_doubled(self) -> None:
        """The connection broke after the commit: the event is there, the job moved on."""
        job = make_job(state=State.DOWNLOADING, viggle_job_id="vj-1")
        earlier = Event(T0, State.PREPARING, State.SUBMITTING, "")
        assert decide(ANSWER, job, [earlier, event(ANSWER)]).verdict is Verdict.WRITTEN

    def test_the_event_read_back_from_the_store_may_differ_in_the_last_bits(self) -> None:
        assert decide(ANSWER, make_job(), [event(ANSWER, at=ANSWER.at + 1e-7)]).verdict is (
            Verdict.WRITTEN
        )

    def test_another_answer_at_another_time_is_not_ours(self) -> None:
        """Attempt 1 went to rendering too, an hour before: this one is still to write."""
        older = event(ANSWER, at=ANSWER.at - 3600)
        assert decide(ANSWER, make_job(), [older]).verdict is Verdict.WRITE

    def test_a_render_id_moves_a_job_taken_over_meanwhile_on(self) -> None:
        """Another host made it uncertain: the id is the proof a person would look for."""
        job = make_job(state=State.UNCERTAIN)
        assert decide(ANSWER, job, []) == Decision(
            Verdict.WRITE, State.UNCERTAIN, late_detail(ANSWER)
        )
        assert decide(
            ANSWER, job, [event(ANSWER, State.UNCERTAIN, detail=late_detail(ANSWER))]
        ) == (Decision(Verdict.WRITTEN))

    def test_a_refusal_never_moves_an_uncertain_job_it_is_noted(self) -> None:
        decision = decide(REFUSAL, make_job(state=State.UNCERTAIN), [])
        assert (decision.verdict, decision.detail) == (
            Verdict.NOTE,
            "answer to attempt 2, not recorded: bad input [CS-1]",
        )

    @pytest.mark.parametrize(
        "job",
        [
            make_job(attempts=3),  # a newer attempt is on its way: never touched
            make_job(state=State.UNCERTAIN, attempts=3),
            make_job(state=State.CANCELLED),  # a person acted first
            make_job(state=State.QUEUED),
        ],
    )
    def test_a_job_that_went_on_without_the_answer_only_gets_a_note(self, job: Job) -> None:
        assert decide(ANSWER, job, []).verdict is Verdict.NOTE

    def test_a_job_that_is_gone_is_dropped(self) -> None:
        assert decide(ANSWER, None, []).verdict is Verdict.DROP

    def test_an_intent_never_written_leaves_nothing_to_do(self) -> None:
        answer = not_sent(INTENT, T0, "lost")
        assert (decide(answer, INTENT, []).verdict, decide(answer, make_job(), []).verdict) == (
            Verdict.DROP,
            Verdict.WRITE,
        )


class TestJournalLines:
    @pytest.mark.parametrize("answer", [ANSWER, REFUSAL, not_sent(INTENT, T0, "lost")])
    def test_an_answer_survives_its_line(self, answer: Unrecorded) -> None:
        assert Unrecorded.of_json(json.loads(json.dumps(answer.as_json()))) == answer

    @pytest.mark.parametrize(
        ("doc", "words"),
        [
            ([], "not a JSON object"),
            ({**ANSWER.as_json(), "job_id": "7"}, "'7' is not a whole number"),
            ({**ANSWER.as_json(), "at": True}, "True is not a number"),
            ({k: v for k, v in ANSWER.as_json().items() if k != "dst"}, "dst is missing"),
            ({**ANSWER.as_json(), "dst": "done"}, "done is not where an answer leads"),
            ({**ANSWER.as_json(), "fields": {"owner": "x"}}, "fields must be some of"),
        ],
    )
    def test_a_line_that_is_not_an_answer_is_refused_in_words(self, doc: Any, words: str) -> None:
        with pytest.raises(ValueError, match=words):
            Unrecorded.of_json(doc)


class TestOverdue:
    def test_a_job_first_seen_idle_starts_its_wait(self) -> None:
        assert overdue([1, 2], set(), {}, T0, 180.0) == ({1: T0, 2: T0}, [])

    def test_idle_for_the_bound_is_overdue(self) -> None:
        since, late = overdue([1, 2], set(), {1: T0, 2: T0 + 10}, T0 + 180, 180.0)
        assert (since, late) == ({1: T0, 2: T0 + 10}, [1])

    def test_a_request_on_the_wire_or_an_answer_kept_is_not_idle(self) -> None:
        """And its wait starts again once it is idle: the bound counts from the request's end."""
        assert overdue([1, 2], {1, 2}, {1: T0, 2: T0}, T0 + 999, 180.0) == ({}, [])

    def test_a_job_no_longer_submitting_is_forgotten(self) -> None:
        assert overdue([2], set(), {1: T0, 2: T0}, T0 + 1, 180.0) == ({2: T0}, [])

    def test_a_clock_gone_back_starts_the_wait_again(self) -> None:
        assert overdue([1], set(), {1: T0 + 500}, T0, 180.0) == ({1: T0}, [])
