"""The answer to an asset's creation as a write the store must take (``render.asset_answers``),
its journal line (``render.journal``), and what `status` says of the journal
(``render.pending``): pure, no I/O but a temporary folder."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from viggle_watch.render.asset_answers import AssetAnswer, created, decide
from viggle_watch.render.journal import JOURNAL, Answer, Journal
from viggle_watch.render.pending import pending_answers, pending_words
from viggle_watch.render.unrecorded import Unrecorded, Verdict
from viggle_watch.store.assets import Asset, AssetKind, AssetStatus
from viggle_watch.store.states import State

T0 = 1_700_000_000.0
KEY = "ab" * 32
ANSWER = created(AssetKind.CHARACTER, KEY, 7, T0, "char-1")
REFUSED = AssetAnswer(AssetKind.CHARACTER, KEY, 7, T0, None, T0, refund=True)


def row(status: AssetStatus, viggle_id: str = "", created_at: float = T0) -> Asset:
    return Asset(AssetKind.CHARACTER, KEY, viggle_id, status, 7, "", created_at, T0 + 1)


@pytest.mark.parametrize(
    ("answer", "stored", "verdict", "src"),
    [
        (ANSWER, row(AssetStatus.CREATING), Verdict.WRITE, AssetStatus.CREATING),
        (ANSWER, row(AssetStatus.PENDING, "char-1"), Verdict.WRITTEN, None),  # ack lost
        (ANSWER, row(AssetStatus.READY, "char-1"), Verdict.WRITTEN, None),
        (ANSWER, row(AssetStatus.UNCERTAIN), Verdict.WRITE, AssetStatus.UNCERTAIN),  # the proof
        (ANSWER, row(AssetStatus.CREATING, created_at=T0 + 9), Verdict.NOTE, None),  # newer
        (ANSWER, None, Verdict.NOTE, None),  # a person dropped the row: said, not written
        (REFUSED, row(AssetStatus.CREATING), Verdict.WRITE, AssetStatus.CREATING),
        (REFUSED, None, Verdict.WRITTEN, None),  # dropped already
        (REFUSED, row(AssetStatus.CREATING, created_at=T0 + 9), Verdict.WRITTEN, None),
        (replace(REFUSED, sent=False), row(AssetStatus.UNCERTAIN), Verdict.DROP, None),
    ],
)
def test_a_kept_answer_is_written_once_and_never_onto_a_newer_intent(
    answer: AssetAnswer, stored: Asset | None, verdict: Verdict, src: AssetStatus | None
) -> None:
    decision = decide(answer, stored)
    assert (decision.verdict, decision.src) == (verdict, src)


def test_both_kinds_of_answer_share_the_journal_in_order(tmp_path: Path) -> None:
    render = Unrecorded(3, 1, State.RENDERING, "viggle job vj-3", T0, {"viggle_job_id": "vj-3"})
    journal = Journal(tmp_path / JOURNAL)
    kept: list[Answer] = [ANSWER, render, replace(REFUSED, to=AssetStatus.FAILED, detail="refused")]
    journal.save(kept)
    assert journal.load() == kept


def test_an_asset_line_that_cannot_be_read_is_refused_with_the_reason() -> None:
    doc = ANSWER.as_json() | {"to": "ready"}
    with pytest.raises(ValueError, match="not where an answer leads"):
        AssetAnswer.of_json(doc)


def test_status_words_count_the_waiting_answers_their_oldest_and_their_jobs() -> None:
    lines = [
        json.dumps(created(AssetKind.CHARACTER, KEY, 13, T0 + 10, "c").as_json()),
        json.dumps(Unrecorded(12, 1, State.RENDERING, "x", T0, {}).as_json()),
        json.dumps(Unrecorded(13, 1, State.FAILED, "x", T0 + 20, {}).as_json()),
        "",
    ]
    pending = pending_answers(lines, T0 + 40)
    assert pending == {"count": 3, "oldest_s": 40.0, "jobs": [12, 13], "unreadable": 0}
    assert pending_words(pending) == (
        "3 answers from Viggle wait to be written to the store (oldest 40 s): jobs 12, 13"
    )


def test_status_says_nothing_without_answers_and_says_an_unreadable_line() -> None:
    empty = pending_answers([], T0)
    one = pending_answers([json.dumps(ANSWER.as_json()), "{not json"], T0 + 2)
    assert (pending_words(empty), pending_words(one)) == (
        None,
        "1 answer from Viggle waits to be written to the store (oldest 2 s): job 7; 1 line of"
        f" {JOURNAL} cannot be read (see the log)",
    )
