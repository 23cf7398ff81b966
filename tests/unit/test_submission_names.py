"""The names uploaded files take in a watch folder (web.submissions.naming, pure): the last part
of the client's name, refused when the watcher would ignore it or the rule cannot use it, and
one collision suffix for the whole submission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from viggle_watch.config import Rule
from viggle_watch.config.kinds import parse_rule, parse_size
from viggle_watch.watch.filters import is_ignored
from viggle_watch.web.submissions.naming import (
    MAX_FILES,
    STALE_TEMP_S,
    base_name,
    group_refusal,
    is_stale_temp,
    may_rename,
    numbered,
    placing_order,
    refusal,
    temp_name,
)


def rule(kind: str, **fields: Any) -> Rule:
    base: dict[str, Any] = {"name": f"r-{kind}", "kind": kind, "watch": "/w", "output": "/o"}
    if kind == "characters":
        base["scenes"] = [{"video": "/s/dance.mp4"}]
    if kind == "scenes":
        base["characters"] = ["/c/alice.png"]
    return parse_rule({**base, **fields}, Path("/"))


@pytest.mark.parametrize(
    ("sent", "name"),
    [
        ("hero.png", "hero.png"),
        ("../../etc/hero.png", "hero.png"),
        ("/abs/path/hero.png", "hero.png"),
        ("C:\\Users\\me\\hero.png", "hero.png"),
        ("dir/", ""),
        ("..", ".."),
    ],
)
def test_the_base_name_is_the_last_part_of_any_path(sent: str, name: str) -> None:
    """Slashes and backslashes both separate: no name ever holds a separator."""
    assert base_name(sent) == name


@pytest.mark.parametrize(
    ("kind", "sent", "words"),
    [
        ("characters", "hero.png", None),
        ("characters", "../hero.PNG", None),
        ("characters", "", "names no file"),
        ("characters", "up/..", "names no file"),
        ("characters", "a\x00b.png", "control characters"),
        ("characters", "a\tb.png", "control characters"),
        ("characters", "x" * 201 + ".png", "at most 200 bytes"),
        ("characters", ".hero.png", "the watcher ignores this name"),
        ("characters", "hero.png.part", "the watcher ignores this name"),
        ("characters", "~$hero.png", "the watcher ignores this name"),
        ("characters", "hero.mp4", "rule r-characters takes images (.jpeg .jpg .png .webp)"),
        ("scenes", "hero.png", "takes videos (.avi .mov .mp4 .webm)"),
        ("scenes", "move.mov", None),
        ("pairs", "hero.png", None),
        ("pairs", "hero.webm", None),
        ("pairs", "hero.job.yaml", "takes images (.jpeg .jpg .png .webp) or videos"),
        ("jobs", "hero.job.yaml", None),
        ("jobs", "hero.png", None),
        ("jobs", "notes.txt", "or job manifests (.job.yaml)"),
    ],
)
def test_a_name_is_refused_in_words_or_taken(kind: str, sent: str, words: str | None) -> None:
    """What the watcher would ignore, or the rule cannot use, is refused with the reason."""
    why = refusal(sent, rule(kind))
    if words is None:
        assert why is None
    else:
        assert why is not None and words in why, why


def test_a_submission_needs_files_with_names_of_their_own() -> None:
    """No file, too many, two of one name (any case: a share may ignore case), or a jobs rule
    without a manifest: refused; otherwise None."""
    chars, jobs = rule("characters"), rule("jobs")
    assert group_refusal([], chars) == (
        "no file: send one or more parts named file (after the rule field)"
    )
    assert "at most 100" in str(group_refusal(["a.png"] * (MAX_FILES + 1), chars))
    assert group_refusal(["Hero.png", "hero.PNG"], chars) == (
        "two files are named Hero.png: each file of a submission needs its own name"
    )
    assert "works from job manifests" in str(group_refusal(["hero.png"], jobs))
    assert group_refusal(["hero.png", "take.job.yaml"], jobs) is None
    assert group_refusal(["hero.png", "hero.mp4"], rule("pairs")) is None


def test_one_suffix_numbers_every_file_of_a_submission() -> None:
    """A pair keeps its common stem: hero-2.png with hero-2.mp4 (the outputs' -N suffix)."""
    names = ["hero.png", "hero.mp4", "take.job.yaml", "README"]
    assert numbered(names, 1) == names
    assert numbered(names, 3) == ["hero-3.png", "hero-3.mp4", "take-3.job.yaml", "README-3"]


def test_manifests_are_placed_last_and_never_renamed() -> None:
    """The files a manifest names are there before it; a jobs rule's names stay as sent."""
    assert placing_order(["a.job.yaml", "a.png", "B.JOB.YAML", "a.mp4"]) == [1, 3, 0, 2]
    assert (may_rename(rule("jobs")), may_rename(rule("pairs"))) == (False, True)


def test_the_temp_name_is_one_the_watcher_ignores() -> None:
    """Written under a hidden .part name; only such names of ours, a day old, are swept."""
    temp = temp_name("ab12")
    assert (temp, is_ignored(temp)) == (".viggle-upload-ab12.part", True)
    assert is_stale_temp(temp, STALE_TEMP_S + 1)
    assert not is_stale_temp(temp, 60.0)
    assert not is_stale_temp("hero.png.part", STALE_TEMP_S + 1)  # a user's copy: never ours


@pytest.mark.parametrize(
    ("given", "size"),
    [
        (1024, 1024),
        ("2GiB", 2 * 1024**3),
        ("500 MiB", 500 * 1024**2),
        ("1.5GB", 1_500_000_000),
        ("64kib", 65536),
        ("10", 10),
        ("7b", 7),
    ],
)
def test_a_size_is_bytes_or_words(given: object, size: int) -> None:
    """web.max_upload: a number of bytes, or 2GiB / 500MiB (1024s) / 1.5GB (1000s)."""
    assert parse_size(given) == size


@pytest.mark.parametrize("given", ["2 gigs", "", "-1", 0, True, "1.5.3MB"])
def test_a_size_that_is_no_size_is_refused(given: object) -> None:
    """Words it does not know, nothing, zero or less, or a bool: a config error."""
    with pytest.raises(ValueError, match="size"):
        parse_size(given)
