"""The acceptance gate's verdict (issue 16; docs/deliverables.md): is a downloaded render fit to
reach the output folder editors import from? Pure: the figures ``media.inspect`` measured and
what was asked go in, the failed checks come out — none means accepted.

A render that fails goes to ``OUTPUT/_review/`` and waits for a person (``review``); it is
never rendered again on its own (that would cost money).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

DURATION_SLACK_S: Final = 0.25
DURATION_SLACK_SHARE: Final = 0.05
"""A render may differ from the asked length by the larger of these (0.25 s, or 5 %). Measured:
the emulator's renders differ by at most one frame at 8 fps (0.0625 s); a real render re-timed
to its own frame rate differs by a frame or two (under 0.1 s at 24 fps). A one-second render cut
to half a second is caught; so is a minute-long one short by more than three seconds."""
BLACK_LIGHT: Final = 24  # no pixel of any frame brighter than this (0-255): a black video
FROZEN_CHANGE: Final = 0.5  # no two frames in a row differ by more (mean per pixel, 0-255)
MASK_EMPTY: Final = 0.002  # no frame's mask covers more of the picture than this
MASK_FULL: Final = 0.998  # every frame's mask covers more than this
SIDE_MIN, SIDE_MAX = 16, 8192  # pixels: a sane render's width and height


@dataclass(frozen=True, slots=True)
class Failed:
    """One check the render did not pass, and what was seen, in words."""

    check: str  # decodes | duration | resolution | black | frozen | mask
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check, "detail": self.detail}


def duration_slack_s(asked_s: float) -> float:
    return max(DURATION_SLACK_S, DURATION_SLACK_SHARE * asked_s)


def _decoding(video: Mapping[str, Any], what: str) -> Failed | None:
    frames, declared = int(video.get("frames") or 0), video.get("declared_frames")
    if video.get("error"):
        shown = f" after {frames} frames" if frames else ""
        return Failed("decodes", f"the {what} does not decode{shown}: {video['error']}")
    if frames == 0:
        return Failed("decodes", f"the {what} has no frame")
    if declared and frames < int(declared):
        return Failed("decodes", f"the {what} decodes {frames} of its {declared} frames")
    return None


def _judge_video(video: Mapping[str, Any], asked_s: float | None) -> list[Failed]:
    broken = _decoding(video, "render")
    if broken is not None:
        return [broken]  # nothing else can be trusted about an undecodable file
    failed = []
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if min(width, height) < SIDE_MIN or max(width, height) > SIDE_MAX:
        failed.append(Failed("resolution", f"the render is {width}x{height} pixels"))
    length = float(video.get("duration_s") or 0.0)
    if asked_s and abs(length - asked_s) > duration_slack_s(asked_s):
        failed.append(
            Failed(
                "duration",
                f"the render lasts {length:.2f} s; {asked_s:.2f} s was asked"
                f" (±{duration_slack_s(asked_s):.2f} s allowed)",
            )
        )
    if int(video.get("brightest") or 0) <= BLACK_LIGHT:
        failed.append(Failed("black", "every frame is black"))
    elif int(video.get("frames") or 0) > 1 and float(video.get("max_change", 0)) < FROZEN_CHANGE:
        failed.append(Failed("frozen", "every frame is the same picture (the video is frozen)"))
    return failed


def _judge_mask(mask: Mapping[str, Any] | None) -> list[Failed]:
    if mask is None:
        return [Failed("mask", "a transparent render came without its mask")]
    broken = _decoding(mask, "mask")
    if broken is not None:
        return [Failed("mask", broken.detail)]
    if float(mask.get("coverage_max", 0)) < MASK_EMPTY:
        return [Failed("mask", "the mask is empty in every frame (no character to key)")]
    if float(mask.get("coverage_min", 0)) > MASK_FULL:
        return [Failed("mask", "the mask is full in every frame (nothing is transparent)")]
    return []


def judge(measured: Mapping[str, Any], *, asked_s: float | None, transparent: bool) -> list[Failed]:
    """The checks a render fails, given ``media.inspect``'s figures (``{"video", "mask"}``),
    the length asked for (None: not known, not checked) and whether a mask belongs to it."""
    failed = _judge_video(measured.get("video") or {}, asked_s)
    if transparent:
        failed += _judge_mask(measured.get("mask"))
    return failed
