"""The acceptance gate's verdict (issue 16), pure: each check rejects its broken figures and
accepts the good ones; the figures are shaped as ``media.inspect`` prints them."""

from __future__ import annotations

from typing import Any

import pytest

from viggle_watch.render.acceptance import duration_slack_s, judge


def video(**changes: Any) -> dict[str, Any]:
    good = {
        "frames": 16,
        "error": None,
        "declared_frames": 16,
        "width": 64,
        "height": 64,
        "fps": 8.0,
        "duration_s": 2.0,
        "brightest": 201,
        "mean_light": 187.1,
        "max_change": 9.4,
        "coverage_min": 1.0,
        "coverage_max": 1.0,
    }
    return good | changes


def mask(**changes: Any) -> dict[str, Any]:
    return video(brightest=255, coverage_min=0.2, coverage_max=0.21) | changes


def checks(
    measured: dict[str, Any], *, asked_s: float | None = 2.0, transparent: bool = False
) -> list[str]:
    return [f.check for f in judge(measured, asked_s=asked_s, transparent=transparent)]


def test_a_good_render_passes() -> None:
    assert checks({"video": video(), "mask": None}) == []
    assert checks({"video": video(), "mask": mask()}, transparent=True) == []


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"error": "InvalidDataError: moov atom not found", "frames": 0}, ["decodes"]),
        ({"frames": 0}, ["decodes"]),
        ({"frames": 9, "declared_frames": 16, "duration_s": 1.125}, ["decodes"]),
        ({"width": 8, "height": 8}, ["resolution"]),
        ({"width": 20000}, ["resolution"]),
        ({"brightest": 12}, ["black"]),
        ({"max_change": 0.1}, ["frozen"]),
        ({"frames": 8, "declared_frames": 8, "duration_s": 1.0}, ["duration"]),
        ({"frames": 40, "declared_frames": 40, "duration_s": 5.0}, ["duration"]),
    ],
)
def test_each_check_rejects_its_broken_render(changes: dict[str, Any], failed: list[str]) -> None:
    assert checks({"video": video(**changes)}) == failed


def test_an_undecodable_render_is_judged_on_that_alone() -> None:
    """Nothing else about a file that does not decode can be trusted: one reason, in words."""
    found = judge({"video": video(error="boom", brightest=0)}, asked_s=2.0, transparent=False)
    assert [(f.check, f.detail) for f in found] == [
        ("decodes", "the render does not decode after 16 frames: boom")
    ]


def test_the_duration_slack_is_a_quarter_second_or_five_percent() -> None:
    assert duration_slack_s(2.0) == 0.25 and duration_slack_s(60.0) == pytest.approx(3.0)
    assert checks({"video": video(duration_s=2.2)}) == []
    assert checks({"video": video(duration_s=1.7)}) == ["duration"]
    assert checks({"video": video(duration_s=0.5)}, asked_s=1.0) == ["duration"]  # half gone
    assert checks({"video": video(duration_s=57.5)}, asked_s=60.0) == []
    assert checks({"video": video(duration_s=2.0)}, asked_s=None) == []  # not known: not judged


def test_a_single_frame_is_not_frozen() -> None:
    assert checks({"video": video(frames=1, declared_frames=1, max_change=0.0)}, asked_s=None) == []


@pytest.mark.parametrize(
    ("the_mask", "words"),
    [
        (None, "came without its mask"),
        (mask(coverage_max=0.0, coverage_min=0.0, brightest=0), "empty"),
        (mask(coverage_max=1.0, coverage_min=1.0), "full"),
        (mask(error="InvalidDataError: truncated", frames=3), "does not decode"),
    ],
)
def test_a_transparent_render_needs_a_mask_that_keys_something(
    the_mask: dict[str, Any] | None, words: str
) -> None:
    found = judge({"video": video(), "mask": the_mask}, asked_s=2.0, transparent=True)
    assert [f.check for f in found] == ["mask"] and words in found[0].detail


def test_the_mask_is_not_judged_for_other_modes() -> None:
    assert checks({"video": video(), "mask": mask(coverage_max=0.0)}, transparent=False) == []
