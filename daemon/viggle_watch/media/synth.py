"""Small real media files for tests, the demo and the emulator: PNG characters, H.264 driving
videos and render results, all genuine data (Pillow and PyAV) so that the emulator and the
pipeline validate them the way the real API does. A render result can also be spoiled on
demand (:data:`BROKEN_OUTPUTS`: cut, black, frozen, short, empty or full mask), so that the
checks on downloaded renders can be tested against the emulator.

Colours are derived from ``seed``: different seeds give different bytes, the same seed the same
bytes. Pillow and PyAV are imported by the functions that use them, never at import time.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from av.video.stream import VideoStream
    from PIL import Image, ImageDraw

Color = tuple[int, int, int]

_VIDEO_CODEC: Final = "libx264"
_PIXEL_FORMAT: Final = "yuv420p"
RESULT_FPS: Final = 8
RESULT_SIZE: Final = (64, 64)
"""Frame rate and size of :func:`make_result_mp4` output: tiny, so generating it is fast."""
_WHITE: Final = (255, 255, 255)
_BLACK: Final = (0, 0, 0)
_GREY: Final = (128, 128, 128)
_MIN_CONTRAST: Final = 48
"""Least grey-level distance (0-255) between a result's figure and its background. Measured
over lengths of 3 to 2,400 frames: the figure's step between two frames then changes a 32x32
grey copy by at least 2 levels per pixel on average (the seeded colours alone: as little as 0)."""

BROKEN_OUTPUTS: Final = ("none", "truncated", "black", "frozen", "short", "empty_mask", "full_mask")
"""How a result video can be spoiled, for testing the checks on downloads: ``truncated`` the
file cut at half its bytes; ``black`` every frame black; ``frozen`` the first frame for the
whole length; ``short`` only the first half of the frames; ``empty_mask`` / ``full_mask`` a
mask all black / all white (the render itself good)."""


def _palette(seed: int, count: int) -> list[Color]:
    """Return ``count`` RGB colours determined only by ``seed``."""
    digest = hashlib.sha256(f"viggle-watch-media-{seed}".encode()).digest()
    return [(digest[3 * i], digest[3 * i + 1], digest[3 * i + 2]) for i in range(count)]


def _draw_figure(
    draw: ImageDraw.ImageDraw, size: tuple[int, int], body: Color, shift_x: int = 0
) -> None:
    """Draw a stick-figure-like character centred (plus ``shift_x``) in an image of ``size``."""
    width, height = size
    cx = width // 2 + shift_x
    unit = max(1, min(width, height) // 16)
    head_r = 2 * unit
    head_top = 2 * unit
    draw.ellipse((cx - head_r, head_top, cx + head_r, head_top + 2 * head_r), fill=body)
    neck_y = head_top + 2 * head_r
    hip_y = neck_y + 5 * unit
    stroke = max(1, unit)
    draw.rectangle((cx - 2 * unit, neck_y, cx + 2 * unit, hip_y), fill=body)
    draw.line((cx - 2 * unit, neck_y + unit, cx - 5 * unit, hip_y), fill=body, width=stroke)
    draw.line((cx + 2 * unit, neck_y + unit, cx + 5 * unit, hip_y), fill=body, width=stroke)
    foot_y = min(height - unit, hip_y + 6 * unit)
    draw.line((cx - unit, hip_y, cx - 3 * unit, foot_y), fill=body, width=stroke)
    draw.line((cx + unit, hip_y, cx + 3 * unit, foot_y), fill=body, width=stroke)


def make_character_png(path: Path, *, size: tuple[int, int] = (256, 256), seed: int = 0) -> Path:
    """Write a PNG of a simple figure on a plain background to ``path`` and return ``path``."""
    from PIL import Image, ImageDraw

    background, body = _palette(seed, 2)
    image = Image.new("RGB", size, background)
    _draw_figure(ImageDraw.Draw(image), size, body)
    image.save(path, format="PNG")
    return path


def _video_frame_image(
    index: int, frame_count: int, size: tuple[int, int], colors: list[Color]
) -> Image.Image:
    """Return frame ``index`` of the driving video: a square moving along a sine path."""
    from PIL import Image, ImageDraw

    background, shape = colors
    width, height = size
    image = Image.new("RGB", size, background)
    side = max(4, min(width, height) // 4)
    phase = 2 * math.pi * index / max(1, frame_count)
    x = int((width - side) * (0.5 + 0.5 * math.sin(phase)))
    y = int((height - side) * (0.5 + 0.5 * math.cos(phase)))
    ImageDraw.Draw(image).rectangle((x, y, x + side, y + side), fill=shape)
    return image


def _encode(
    target: str | io.BytesIO,
    container_format: str,
    frames: Iterator[Image.Image],
    fps: int,
    size: tuple[int, int],
    codec: str = _VIDEO_CODEC,
) -> None:
    """Encode ``frames`` as ``codec`` (H.264 by default) yuv420p into ``target``."""
    import av

    fast = {"preset": "ultrafast"} if codec == _VIDEO_CODEC else {"deadline": "realtime"}
    with av.open(target, mode="w", format=container_format) as container:
        stream = cast("VideoStream", container.add_stream(codec, rate=fps, options=fast))
        stream.width, stream.height = size
        stream.pix_fmt = _PIXEL_FORMAT
        for image in frames:
            # PyAV's stubs leave VideoFrame.from_image unannotated.
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 12,
    size: tuple[int, int] = (128, 128),
    seed: int = 0,
    container_format: str = "mp4",
    codec: str = _VIDEO_CODEC,
) -> Path:
    """Write a video of ``seconds`` at ``fps`` with a moving shape; return ``path``.

    ``container_format`` is an FFmpeg muxer name (``mp4``, ``mov``, ``avi``, ``mpegts``,
    ``matroska``, ``webm`` with ``codec="libvpx"``...). ``size`` must be even in both
    dimensions (a yuv420p requirement).
    """
    frame_count = max(1, round(seconds * fps))
    colors = _palette(seed, 2)
    frames = (_video_frame_image(i, frame_count, size, colors) for i in range(frame_count))
    _encode(str(path), container_format, frames, fps, size, codec)
    return path


make_driving_mp4 = make_video
"""An H.264 (yuv420p) MP4 with a moving shape: :func:`make_video` with its default format."""


def breaks(broken: str, *, mask: bool) -> bool:
    """Whether ``broken`` spoils the render (``mask`` False) or its mask video (``mask`` True).

    ``black`` spoils only the render and the mask kinds only the mask, so that each kind shows
    exactly one defect; the others spoil both files alike (a frozen or short mask still matches
    its render).
    """
    if broken in ("empty_mask", "full_mask"):
        return mask
    if broken == "black":
        return not mask
    return broken != "none"


def _luma(color: Color) -> float:
    red, green, blue = color
    return 0.299 * red + 0.587 * green + 0.114 * blue


def _result_colors(frame_count: int, *, mask: bool, broken: str) -> tuple[Color, Color]:
    """``(background, figure)`` of a result: white on black for a mask, else seeded colours.

    A seeded figure too close in grey to its background becomes black or white (whichever is
    further): a grey-level check must see the figure move, or a good render looks frozen.
    """
    if broken in ("black", "empty_mask"):
        return _BLACK, _BLACK
    if broken == "full_mask":
        return _WHITE, _WHITE
    if mask:
        return _BLACK, _WHITE
    background, body = _palette(frame_count, 2)
    if abs(_luma(background) - _luma(body)) < _MIN_CONTRAST:
        body = _BLACK if _luma(background) > _luma(_GREY) else _WHITE
    return background, body


def _result_frames(frame_count: int, *, mask: bool, broken: str) -> Iterator[Image.Image]:
    """Frames of a figure swaying left and right once over ``frame_count`` frames (the asked
    length), spoiled as ``broken`` says (``"none"``: not at all)."""
    from PIL import Image, ImageDraw

    background, body = _result_colors(frame_count, mask=mask, broken=broken)
    shown = max(1, frame_count // 2) if broken == "short" else frame_count
    width = RESULT_SIZE[0]
    for index in range(shown):
        phase = 0 if broken == "frozen" else index
        image = Image.new("RGB", RESULT_SIZE, background)
        shift = int(width / 6 * math.sin(2 * math.pi * phase / max(1, frame_count)))
        _draw_figure(ImageDraw.Draw(image), RESULT_SIZE, body, shift)
        yield image


def make_result_mp4(seconds: float, *, mask: bool = False, broken: str = "none") -> bytes:
    """Return the bytes of a small H.264 MP4 of ``seconds`` (to 1/8 s) showing a dancing figure.

    With ``mask`` the figure is white on black: the alpha video of a transparent render, white
    exactly where the render's figure is, frame by frame. ``broken`` (one of
    :data:`BROKEN_OUTPUTS`) spoils the file where :func:`breaks` says so. The same arguments
    always give the same bytes.
    """
    if broken not in BROKEN_OUTPUTS:
        raise ValueError(f"broken must be one of {', '.join(BROKEN_OUTPUTS)}, got {broken!r}")
    kind = broken if breaks(broken, mask=mask) else "none"
    frame_count = max(1, round(seconds * RESULT_FPS))
    buffer = io.BytesIO()
    frames = _result_frames(frame_count, mask=mask, broken=kind)
    _encode(buffer, "mp4", frames, RESULT_FPS, RESULT_SIZE)
    data = buffer.getvalue()
    # As if Viggle stored a broken file: whoever serves it serves the cut bytes whole.
    return data[: len(data) // 2] if kind == "truncated" else data
