"""Small real media files for tests, the demo and the emulator: PNG characters, H.264 driving
videos and render results, all genuine data (Pillow and PyAV) so that the emulator and the
pipeline validate them the way the real API does.

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


def _result_frames(frame_count: int, *, mask: bool) -> Iterator[Image.Image]:
    """Frames of a figure swaying left and right; white on black when ``mask``."""
    from PIL import Image, ImageDraw

    background, body = (_BLACK, _WHITE) if mask else _palette(frame_count, 2)
    width = RESULT_SIZE[0]
    for index in range(frame_count):
        image = Image.new("RGB", RESULT_SIZE, background)
        shift = int(width / 6 * math.sin(2 * math.pi * index / max(1, frame_count)))
        _draw_figure(ImageDraw.Draw(image), RESULT_SIZE, body, shift)
        yield image


def make_result_mp4(seconds: float, *, mask: bool = False) -> bytes:
    """Return the bytes of a small H.264 MP4 of ``seconds`` (to 1/8 s) showing a dancing figure.

    With ``mask`` the figure is white on black: the alpha video of a transparent render.
    The same arguments always give the same bytes.
    """
    frame_count = max(1, round(seconds * RESULT_FPS))
    buffer = io.BytesIO()
    _encode(buffer, "mp4", _result_frames(frame_count, mask=mask), RESULT_FPS, RESULT_SIZE)
    return buffer.getvalue()
