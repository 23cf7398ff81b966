"""The render results ``media.synth`` makes: a good one shows a moving figure that its mask
matches frame by frame, and each broken kind spoils the file in its one way."""

from __future__ import annotations

import av
import pytest

from tests.support.frames import (
    brightest,
    centre_x,
    change,
    darkest,
    disagreement,
    figure,
    grey_frames,
    largest_change,
)
from viggle_watch.media.synth import BROKEN_OUTPUTS, RESULT_SIZE, breaks, make_result_mp4

# 16 frames is the harness's 2 s render; 64 and 83 frames had a figure within a few grey levels
# of its background (it looked frozen to a grey-level check) before results got a least contrast.
LENGTHS_S = (0.5, 2.0, 8.0, 83 / 8)


@pytest.mark.parametrize("seconds", LENGTHS_S)
def test_mask_is_white_exactly_where_the_figure_is(seconds: float) -> None:
    """Same frame count and size; in every frame the mask covers the render's figure, to the
    codec's blur at its edges, at the same place."""
    video = grey_frames(make_result_mp4(seconds, mask=False))
    mask = grey_frames(make_result_mp4(seconds, mask=True))
    assert (
        (len(video), video[0].size) == (len(mask), mask[0].size) == (round(seconds * 8), (64, 64))
    )
    for shown, covered in zip(video, mask, strict=True):
        drawn, white = figure(shown, mask=False), figure(covered, mask=True)
        assert disagreement(drawn, white) <= 0.005  # measured: 0 (no pixel differs)
        assert centre_x(drawn) == pytest.approx(centre_x(white), abs=0.5)


@pytest.mark.parametrize("seconds", LENGTHS_S)
def test_a_good_result_is_neither_black_nor_frozen(seconds: float) -> None:
    """The figure moves visibly between some two frames, and is far from black."""
    frames = grey_frames(make_result_mp4(seconds))
    assert largest_change(frames) > 2.0
    assert min(brightest(frame) for frame in frames) > 40


def test_breaks_spoils_one_file_per_kind() -> None:
    """black spoils only the render, the mask kinds only the mask, the others both."""
    spoiled = {kind: (breaks(kind, mask=False), breaks(kind, mask=True)) for kind in BROKEN_OUTPUTS}
    assert spoiled == {
        "none": (False, False),
        "truncated": (True, True),
        "black": (True, False),
        "frozen": (True, True),
        "short": (True, True),
        "empty_mask": (False, True),
        "full_mask": (False, True),
    }


@pytest.mark.parametrize("mask", [False, True])
def test_unspoiled_kinds_give_the_good_bytes(mask: bool) -> None:
    """Where ``breaks`` says a kind leaves a file alone, it is the good file byte for byte."""
    good = make_result_mp4(1.0, mask=mask)
    assert make_result_mp4(1.0, mask=mask, broken="none") == good
    for kind in BROKEN_OUTPUTS:
        if not breaks(kind, mask=mask):
            assert make_result_mp4(1.0, mask=mask, broken=kind) == good, kind


def test_truncated_is_the_first_half_of_the_good_bytes() -> None:
    """The cut file is the good file's first half, and PyAV cannot read it."""
    good = make_result_mp4(2.0)
    cut = make_result_mp4(2.0, broken="truncated")
    assert cut == good[: len(good) // 2]
    with pytest.raises(av.error.FFmpegError):
        grey_frames(cut)


def test_black_frozen_short_and_mask_kinds() -> None:
    """black: all frames black; frozen: the first frame throughout; short: half the frames,
    mask too; empty/full mask: black/white masks of full length."""
    black = grey_frames(make_result_mp4(2.0, broken="black"))
    assert (len(black), black[0].size, max(map(brightest, black))) == (16, RESULT_SIZE, 0)
    frozen = grey_frames(make_result_mp4(2.0, broken="frozen"))
    assert len(frozen) == 16
    assert largest_change(frozen) < 0.5
    assert change(frozen[0], grey_frames(make_result_mp4(2.0))[0]) < 2.0  # the good first one
    short = [grey_frames(make_result_mp4(2.0, mask=m, broken="short")) for m in (False, True)]
    assert [len(frames) for frames in short] == [8, 8]
    empty = grey_frames(make_result_mp4(2.0, mask=True, broken="empty_mask"))
    full = grey_frames(make_result_mp4(2.0, mask=True, broken="full_mask"))
    assert (len(empty), max(map(brightest, empty))) == (16, 0)
    assert (len(full), min(map(darkest, full))) == (16, 255)


def test_unknown_kind_is_refused() -> None:
    """A kind not in BROKEN_OUTPUTS is a ValueError naming the allowed ones."""
    with pytest.raises(ValueError, match="truncated"):
        make_result_mp4(1.0, broken="melted")
