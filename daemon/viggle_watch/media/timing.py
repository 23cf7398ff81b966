"""Pure: which mask frame goes with each render frame, and how to say what the mask needed.

Viggle's transparent mode returns the render and a mask video that may not match it frame for
frame (one frame short, another rate, another size). Each render frame takes the mask frame
nearest to it in time: by presentation time, each stream measured from its own first frame;
a frame without a timestamp is placed at its index over its stream's rate (index scaling).
The pairing streams: it holds two mask frames at a time, whatever the videos' length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

R = TypeVar("R")
M = TypeVar("M")


def position_s(time_s: float | None, start_s: float, index: int, fps: float) -> float:
    """Where a frame sits in its video, in seconds from the first frame: its timestamp when it
    has one, else its index over the stream's rate."""
    if time_s is None:
        return index / fps
    return time_s - start_s


def nearest_pairs(
    render: Iterable[tuple[float, R]], mask: Iterable[tuple[float, M]]
) -> Iterator[tuple[R, M]]:
    """Pair each ``(position, render item)`` with the ``(position, mask item)`` nearest to it
    (on a tie, the earlier). Both inputs ascend; each is read once, lazily, in lockstep."""
    masks = iter(mask)
    current = next(masks, None)
    if current is None:
        raise ValueError("the mask video has no frame")
    following = next(masks, None)
    for at, item in render:
        while following is not None and abs(following[0] - at) < abs(current[0] - at):
            current, following = following, next(masks, None)
        yield item, current[1]


@dataclass(frozen=True, slots=True)
class MaskFit:
    """How a mask compared with its render, once both were read."""

    frames: int
    width: int
    height: int
    render_frames: int
    render_width: int
    render_height: int
    shifted: bool  # some render frame took a mask frame of another index

    @property
    def retimed(self) -> bool:
        return self.shifted or self.frames != self.render_frames

    @property
    def resized(self) -> bool:
        return (self.width, self.height) != (self.render_width, self.render_height)

    def facts(self) -> dict[str, object]:
        """The JSON the job's history keeps: counts, the mask's size, and a plain note."""
        return {
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "render_frames": self.render_frames,
            "resampled": self.retimed or self.resized,
            "note": self.note(),
        }

    def note(self) -> str:
        """What differed and what was done about it, in words."""
        mask = f"mask had {self.frames} frames at {self.width}x{self.height}"
        render = f"{self.render_frames} render frames at {self.render_width}x{self.render_height}"
        done = [
            *(["resampled to the render's timing"] if self.retimed else []),
            *(["resized to the render's size"] if self.resized else []),
        ]
        if not done:
            return f"mask matched the render: {self.frames} frames at {self.width}x{self.height}"
        return f"{mask} for {render}: {' and '.join(done)}"
