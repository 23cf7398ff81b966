"""viggle_watch.media.timing: which mask frame each render frame takes, and the note that says
how the mask differed — pure, no video."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from viggle_watch.media.timing import MaskFit, nearest_pairs, position_s


def timed(count: int, fps: float, start_s: float = 0.0) -> list[tuple[float, int]]:
    """``count`` frames at ``fps`` as (position, index), the first at ``start_s``."""
    return [(position_s(start_s + i / fps, start_s, i, fps), i) for i in range(count)]


def picked(render: list[tuple[float, int]], mask: list[tuple[float, int]]) -> list[int]:
    """The mask index each render frame takes."""
    return [m for _, m in nearest_pairs(render, mask)]


def test_equal_timing_pairs_frame_for_frame() -> None:
    """Same rate, same count: render frame n takes mask frame n."""
    assert picked(timed(6, 8), timed(6, 8)) == [0, 1, 2, 3, 4, 5]


def test_a_half_rate_mask_lends_each_frame_twice() -> None:
    """A 4 fps mask under an 8 fps render: each mask frame twice (a tie goes to the earlier)."""
    assert picked(timed(8, 8), timed(4, 4)) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_a_double_rate_mask_gives_every_other_frame() -> None:
    """A 16 fps mask under an 8 fps render: mask frames 0, 2, 4..."""
    assert picked(timed(4, 8), timed(8, 16)) == [0, 2, 4, 6]


def test_a_short_mask_repeats_its_last_frame() -> None:
    """A mask one frame short: the last render frame takes the mask's last frame."""
    assert picked(timed(5, 8), timed(4, 8)) == [0, 1, 2, 3, 3]


def test_25_render_against_24_mask_takes_the_nearest() -> None:
    """25 fps over 24 fps: one mask frame serves two render frames once a second."""
    pairs = picked(timed(25, 25), timed(24, 24))
    assert pairs == [*range(13), *range(12, 24)]


def test_positions_count_from_each_streams_first_frame() -> None:
    """A mask whose timestamps start at 10 s lines up with a render starting at 0."""
    assert picked(timed(3, 8), timed(3, 8, start_s=10.0)) == [0, 1, 2]


def test_a_frame_without_a_timestamp_is_placed_by_its_index() -> None:
    """No timestamp: index over rate (index scaling)."""
    assert position_s(None, 5.0, 12, 8.0) == 1.5
    assert position_s(6.0, 5.0, 12, 8.0) == 1.0


def test_an_empty_mask_is_refused() -> None:
    """A mask with no frame cannot be paired."""
    with pytest.raises(ValueError, match="no frame"):
        list(nearest_pairs(timed(2, 8), []))


def test_the_mask_is_read_lazily_in_lockstep() -> None:
    """Pairing the first render frame reads no more than two mask frames."""
    read: list[int] = []

    def mask() -> Iterator[tuple[float, int]]:
        for position, index in timed(1000, 8):
            read.append(index)
            yield position, index

    pairs = nearest_pairs(timed(1000, 8), mask())
    assert next(pairs) == (0, 0)
    assert read == [0, 1]


def fit(*, frames: int = 32, width: int = 64, height: int = 64, shifted: bool = False) -> MaskFit:
    """A mask's fit against a 32-frame 64x64 render."""
    return MaskFit(frames, width, height, 32, 64, 64, shifted)


def test_a_matching_mask_says_so() -> None:
    """Nothing differed: resampled is False and the note says they matched."""
    assert fit().facts() == {
        "frames": 32,
        "width": 64,
        "height": 64,
        "render_frames": 32,
        "resampled": False,
        "note": "mask matched the render: 32 frames at 64x64",
    }


def test_a_short_mask_is_reported_as_resampled() -> None:
    """A frame short, even with no render frame shifted, is a retiming."""
    assert fit(frames=31).facts() == {
        "frames": 31,
        "width": 64,
        "height": 64,
        "render_frames": 32,
        "resampled": True,
        "note": (
            "mask had 31 frames at 64x64 for 32 render frames at 64x64: "
            "resampled to the render's timing"
        ),
    }


def test_another_size_is_reported_as_resized() -> None:
    """Same timing, another size: the note names the resize only."""
    note = fit(width=48, height=40).note()
    assert note == (
        "mask had 32 frames at 48x40 for 32 render frames at 64x64: resized to the render's size"
    )


def test_both_differences_are_named() -> None:
    """Another rate and another size: both in the note."""
    assert fit(frames=16, width=48, height=40, shifted=True).note() == (
        "mask had 16 frames at 48x40 for 32 render frames at 64x64: "
        "resampled to the render's timing and resized to the render's size"
    )
