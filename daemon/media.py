"""Small real media files for tests and the demo, and probing of video durations.

Everything here writes or reads genuine PNG / H.264 MP4 data (Pillow and PyAV), so the emulator
and the pipeline can validate inputs the way the real API does. Colours are derived from
``seed`` so different seeds produce different bytes, and the same seed the same bytes.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
from PIL import Image, ImageDraw

Color = tuple[int, int, int]

_VIDEO_CODEC: Final = "libx264"
_PIXEL_FORMAT: Final = "yuv420p"


def _palette(seed: int, count: int) -> list[Color]:
    """Return ``count`` RGB colours determined only by ``seed``."""
    digest = hashlib.sha256(f"viggle-watch-media-{seed}".encode()).digest()
    return [(digest[3 * i], digest[3 * i + 1], digest[3 * i + 2]) for i in range(count)]


def _draw_figure(draw: ImageDraw.ImageDraw, size: tuple[int, int], body: Color) -> None:
    """Draw a stick-figure-like character centred in an image of ``size``."""
    width, height = size
    cx = width // 2
    unit = min(width, height) // 16
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
    background, body = _palette(seed, 2)
    image = Image.new("RGB", size, background)
    _draw_figure(ImageDraw.Draw(image), size, body)
    image.save(path, format="PNG")
    return path


def _video_frame_image(
    index: int, frame_count: int, size: tuple[int, int], colors: list[Color]
) -> Image.Image:
    """Return frame ``index`` of the driving video: a square moving along a sine path."""
    background, shape = colors
    width, height = size
    image = Image.new("RGB", size, background)
    side = max(4, min(width, height) // 4)
    phase = 2 * math.pi * index / max(1, frame_count)
    x = int((width - side) * (0.5 + 0.5 * math.sin(phase)))
    y = int((height - side) * (0.5 + 0.5 * math.cos(phase)))
    ImageDraw.Draw(image).rectangle((x, y, x + side, y + side), fill=shape)
    return image


def make_driving_mp4(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 12,
    size: tuple[int, int] = (128, 128),
    seed: int = 0,
) -> Path:
    """Write an H.264 (yuv420p) MP4 of ``seconds`` at ``fps`` with a moving shape; return ``path``.

    ``size`` must be even in both dimensions (a yuv420p requirement).
    """
    frame_count = max(1, round(seconds * fps))
    colors = _palette(seed, 2)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(_VIDEO_CODEC, rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height = size
        stream.pix_fmt = _PIXEL_FORMAT
        for index in range(frame_count):
            image = _video_frame_image(index, frame_count, size, colors)
            # PyAV's stubs leave VideoFrame.from_image unannotated.
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def video_duration_s(path: Path) -> float:
    """Return the duration of the first video stream of ``path`` in seconds.

    Raises ``av.error.FFmpegError`` if the file cannot be opened, and ``ValueError`` if it holds
    no video stream.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path} has no video stream")
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / av.time_base
        rate = stream.average_rate or Fraction(0)
        if stream.frames and rate:
            return float(stream.frames / rate)
    return 0.0
