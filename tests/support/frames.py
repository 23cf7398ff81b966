"""What a result video shows, frame by frame, measured with PyAV and Pillow (no numpy): the
grey frames, and the figures the broken-output and mask tests assert on."""

from __future__ import annotations

import io
import itertools

import av
from PIL import Image, ImageChops, ImageStat

COVERED = 128
"""A mask pixel at least this bright is the character."""


def grey_frames(data: bytes) -> list[Image.Image]:
    """Every frame of the MP4 ``data`` as a grey ("L") image; PyAV's error if it does not
    decode to the end."""
    with av.open(io.BytesIO(data), mode="r") as container:
        # PyAV's stubs leave VideoFrame.to_image unannotated.
        return [
            frame.to_image().convert("L")  # type: ignore[no-untyped-call]
            for frame in container.decode(video=0)
        ]


def brightest(frame: Image.Image) -> int:
    """The grey level (0-255) of the frame's brightest pixel."""
    low_high = frame.getextrema()
    assert isinstance(low_high, tuple) and isinstance(low_high[1], int)
    return low_high[1]


def darkest(frame: Image.Image) -> int:
    """The grey level (0-255) of the frame's darkest pixel."""
    low_high = frame.getextrema()
    assert isinstance(low_high, tuple) and isinstance(low_high[0], int)
    return low_high[0]


def change(first: Image.Image, second: Image.Image) -> float:
    """Mean absolute grey difference (0-255) per pixel between two frames."""
    mean: float = ImageStat.Stat(ImageChops.difference(first, second)).mean[0]
    return mean


def largest_change(frames: list[Image.Image]) -> float:
    """The largest :func:`change` between two frames in a row (0 for a single frame)."""
    return max((change(a, b) for a, b in itertools.pairwise(frames)), default=0.0)


def figure(frame: Image.Image, *, mask: bool) -> Image.Image:
    """A 1-bit image of where the figure is: a mask's bright pixels, or a render's pixels that
    differ clearly from its background (the top-left corner's grey, never under the figure)."""
    if mask:
        return frame.point(lambda v: 255 if v >= COVERED else 0, mode="1")
    background = frame.getpixel((0, 0))
    assert isinstance(background, int)
    return frame.point(lambda v: 255 if abs(v - background) >= 24 else 0, mode="1")


def disagreement(first: Image.Image, second: Image.Image) -> float:
    """Share of pixels where two 1-bit images differ."""
    differ = ImageChops.logical_xor(first, second).histogram()[255]
    return differ / (first.width * first.height)


def centre_x(shape: Image.Image) -> float:
    """Mean x of the set pixels of a 1-bit image."""
    xs = [i % shape.width for i, v in enumerate(shape.convert("L").tobytes()) if v]
    assert xs, "no figure"
    return sum(xs) / len(xs)
