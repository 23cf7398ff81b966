"""Pure: what a writer does with the state directory's marker and the database's store id."""

from __future__ import annotations

import pytest

from viggle_watch.store.identity import Verdict, judge

LOST = "it holds no store id: it is missing, empty, or was made anew"


@pytest.mark.parametrize(
    ("marker", "db_id", "verdict"),
    [
        (None, None, Verdict("adopt", "new")),  # a new store, or one from before markers
        (None, "a1", Verdict("mark", "a1")),  # the marker was lost: write it again
        ("a1", "a1", Verdict("ok", "a1")),
        (
            "a1",
            None,
            Verdict("refuse", "a1", "it holds no store id: it is missing, empty, or was made anew"),
        ),
        ("a1", "b2", Verdict("refuse", "a1", "it holds store b2")),
    ],
)
def test_the_verdict(marker: str | None, db_id: str | None, verdict: Verdict) -> None:
    assert judge(marker, db_id, "new") == verdict
