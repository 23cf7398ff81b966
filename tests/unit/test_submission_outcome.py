"""What became of a submission (web.submissions.outcome, pure): from what the job store and the
folders show of each file — jobs, failed/ with its reason, processed/ without a job, or still
there — to pending, accepted, refused or duplicate; and what is kept of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from viggle_watch.config import Rule
from viggle_watch.config.kinds import parse_rule
from viggle_watch.store.submissions import Decided
from viggle_watch.web.submissions.outcome import (
    DUPLICATE,
    GONE,
    IN_PLACE,
    Found,
    Outcome,
    combined,
    outcome,
    to_keep,
)

CHARS: Rule = parse_rule(
    {
        "name": "dance",
        "kind": "characters",
        "watch": "/w",
        "output": "/o",
        "scenes": [{"video": "/s/dance.mp4"}],
    },
    Path("/"),
)
PAIRS: Rule = parse_rule(
    {"name": "duets", "kind": "pairs", "watch": "/p", "output": "/q", "pair_timeout": "10m"},
    Path("/"),
)


def judge(found: Found, rule: Rule | None = CHARS, name: str = "hero.png") -> Outcome:
    return outcome(found, rule=rule, name=name, settle_s=5.0)


def test_jobs_made_from_the_file_mean_accepted() -> None:
    """Jobs come first: a file whose jobs all failed is in failed/ too, but it was accepted."""
    assert judge(Found(jobs=(3, 4), where="failed")) == Outcome("accepted", jobs=(3, 4))


def test_a_file_in_failed_is_refused_for_the_reason_beside_it() -> None:
    """The code and reason of its NAME.error.json; words of our own when that is gone."""
    error: dict[str, Any] = {"code": "not_an_image", "reason": "The file is not an image."}
    assert judge(Found(where="failed", error=error)) == Outcome(
        "refused", code="not_an_image", reason="The file is not an image."
    )
    assert judge(Found(where="failed")).reason == "filed in failed/ (its NAME.error.json is gone)"


def test_a_file_in_processed_without_a_job_is_a_duplicate() -> None:
    """The dedup key matched (or collision: skip found the output): nothing new to pay."""
    assert judge(Found(where="processed", duplicate_of=(1,))) == Outcome(
        "duplicate", code="duplicate", reason=DUPLICATE, duplicate_of=(1,)
    )


def test_a_file_gone_or_handled_in_place_without_a_job_is_refused() -> None:
    """Moved away by someone, or seen by the intake of an `inputs: leave` rule: no job."""
    assert judge(Found(where="gone")) == Outcome("refused", code="gone", reason=GONE)
    assert judge(Found(handled_in_place=True)) == Outcome(
        "refused", code="handled_in_place", reason=IN_PLACE
    )


def test_a_file_still_there_is_pending_and_says_what_it_waits_for() -> None:
    """Settling; a pair's file without its partner; a rule a reload removed."""
    assert judge(Found()).waits == (
        "the intake, which takes a file once it has stopped changing for 5 s"
    )
    assert judge(Found(partner_there=False), PAIRS).waits == (
        "its partner: a video named hero.* in the watch folder (it waits up to 600 s,"
        " then is refused as an orphan)"
    )
    assert "an image named take.*" in str(
        judge(Found(partner_there=False), PAIRS, "take.mp4").waits
    )
    assert judge(Found(partner_there=True), PAIRS).waits == judge(Found()).waits
    assert "no rule of that name" in str(judge(Found(), None).waits)


def test_what_was_decided_before_is_answered_again() -> None:
    """A kept refusal answers, whatever the folders show now."""
    kept = Decided("refused", "orphan", "No partner came.")
    assert judge(Found(decided=kept)) == Outcome(
        "refused", code="orphan", reason="No partner came."
    )


def test_only_a_refusal_or_duplicate_found_in_the_folders_is_kept() -> None:
    """Kept once seen in failed/ (with its reason written) or processed/; never a pending or
    accepted file, nor one kept already."""
    error = {"code": "empty_file", "reason": "The file is empty."}
    failed = Found(where="failed", error=error)
    assert to_keep(failed, judge(failed)) == Decided("refused", "empty_file", "The file is empty.")
    repeat = Found(where="processed", duplicate_of=(2,))
    assert to_keep(repeat, judge(repeat)) == Decided("duplicate", "duplicate", DUPLICATE, (2,))
    unwritten = Found(where="failed")  # the reason is being written: look again later
    kept = Found(decided=Decided("refused", "x", "y"), where="failed", error=error)
    for found in (Found(), Found(jobs=(1,)), Found(where="gone"), unwritten, kept):
        assert to_keep(found, judge(found)) is None


def test_a_submission_is_pending_until_every_file_is_decided() -> None:
    """Then refused if any file was, else accepted if any job was made, else a duplicate."""
    accepted, pending = Outcome("accepted", jobs=(2,)), Outcome("pending", waits="w")
    refused = Outcome("refused", code="empty_file", reason="The file is empty.")
    duplicate = Outcome("duplicate", code="duplicate", reason=DUPLICATE, duplicate_of=(1,))
    assert combined([("a.png", accepted), ("b.png", pending)]) == Outcome(
        "pending", jobs=(2,), waits="w"
    )
    assert combined([("a.png", accepted), ("b.png", refused)]) == Outcome(
        "refused", jobs=(2,), code="empty_file", reason="b.png: The file is empty."
    )
    assert combined([("a.png", accepted), ("b.png", duplicate)]) == Outcome("accepted", jobs=(2,))
    assert combined([("a.png", duplicate), ("b.png", duplicate)]) == duplicate
    pair = Outcome("accepted", jobs=(5,))
    assert combined([("h.png", pair), ("h.mp4", pair)]) == pair
