"""Tolerant reading (issue 15): the client takes what each step needs from an answer and is not
thrown by how the rest is written."""

from __future__ import annotations

from viggle_watch.viggle.schemas import CharacterPage, RenderCreated, RenderStatus


def test_an_id_sent_as_a_number_is_read_as_its_text() -> None:
    assert RenderCreated.model_validate({"job_id": 12345}).job_id == "12345"


def test_status_words_in_any_case_or_padding_are_the_docs_words() -> None:
    assert RenderStatus.model_validate({"status": " COMPLETE "}).status == "complete"


def test_progress_and_checkpoint_never_make_a_poll_unreadable() -> None:
    odd = RenderStatus.model_validate(
        {"status": "processing", "progress_pct": "45%", "checkpoint": {"step": 2}}
    )
    assert (odd.progress_pct, odd.checkpoint) == (45.0, '{"step": 2}')
    garbled = RenderStatus.model_validate({"status": "processing", "progress_pct": "soon"})
    assert garbled.progress_pct is None


def test_a_list_sent_as_null_is_empty() -> None:
    assert CharacterPage.model_validate({"characters": None, "total": 0}).characters == []
