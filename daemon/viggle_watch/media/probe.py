"""Small real media files for tests, the demo and the emulator, and reading of videos.

Everything here writes or reads genuine PNG / H.264 MP4 data (Pillow and PyAV), so the emulator
and the pipeline can validate inputs the way the real API does. Colours are derived from
``seed`` so different seeds produce different bytes, and the same seed the same bytes.

Pillow and PyAV are imported by the functions that use them, never at import time: PyAV alone
maps ~17 MB into a process, and the long-running service must not carry it (see
:func:`read_video`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
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


@dataclass(frozen=True, slots=True)
class VideoProbe:
    """What :func:`probe_video` learnt about a video without decoding all of it."""

    container: frozenset[str]
    """The demuxer's names, e.g. ``{"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}`` for MP4/MOV."""
    duration_s: float
    width: int
    height: int
    fps: float


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
) -> None:
    """Encode ``frames`` as H.264 yuv420p into ``target`` in ``container_format``."""
    import av

    with av.open(target, mode="w", format=container_format) as container:
        stream = container.add_stream(_VIDEO_CODEC, rate=fps, options={"preset": "ultrafast"})
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
) -> Path:
    """Write an H.264 video of ``seconds`` at ``fps`` with a moving shape; return ``path``.

    ``container_format`` is an FFmpeg muxer name (``mp4``, ``mov``, ``avi``, ``mpegts``,
    ``matroska``...). ``size`` must be even in both dimensions (a yuv420p requirement).
    """
    frame_count = max(1, round(seconds * fps))
    colors = _palette(seed, 2)
    frames = (_video_frame_image(i, frame_count, size, colors) for i in range(frame_count))
    _encode(str(path), container_format, frames, fps, size)
    return path


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
    return make_video(path, seconds=seconds, fps=fps, size=size, seed=seed)


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


def _duration_s(container: InputContainer, stream: VideoStream) -> float:
    """The stream's duration, else the container's, else frames / rate; 0.0 if none is known."""
    stated = _stated_duration_s(container, stream)
    if stated is not None:
        return stated
    rate = stream.average_rate or Fraction(0)
    if stream.frames and rate:
        return float(stream.frames / rate)
    return 0.0


def video_duration_s(path: Path) -> float:
    """Return the duration of the first video stream of ``path`` in seconds.

    Raises ``av.error.FFmpegError`` if the file cannot be opened, and ``ValueError`` if it holds
    no video stream.
    """
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path} has no video stream")
        return _duration_s(container, container.streams.video[0])


def probe_video(source: Path | bytes) -> VideoProbe:
    """Read the container, size, frame rate and duration of a video and decode its first frame.

    Only the first frame is decoded, so probing a long video stays fast. Raises
    ``av.error.FFmpegError`` if the data cannot be opened or decoded, and ``ValueError`` if it
    holds no video stream or no decodable frame.
    """
    import av

    target = str(source) if isinstance(source, Path) else io.BytesIO(source)
    with av.open(target, mode="r") as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        first = next(iter(container.decode(stream)), None)
        if first is None:
            raise ValueError("no decodable video frame")
        rate = stream.average_rate or stream.guessed_rate or Fraction(0)
        return VideoProbe(
            container=frozenset(container.format.name.split(",")),
            duration_s=_duration_s(container, stream),
            width=first.width,
            height=first.height,
            fps=float(rate),
        )


# Reading a video for viggle_watch.intake.checks: facts only; its limits and wording live there.
_MAX_PACKETS_TO_FIRST_FRAME: Final = 600
"""A stream cut mid-GOP may need a whole GOP before a keyframe; garbage gives up here."""
_WEBM_CODECS: Final = frozenset({"vp8", "vp9", "av1"})
"""WebM is Matroska restricted to these codecs; H.264 in Matroska is an .mkv."""


@dataclass(frozen=True, slots=True)
class VideoReading:
    """What FFmpeg made of a file, before anyone's limits are applied.

    ``opened`` is False when FFmpeg could not open the file; ``error`` is its complaint then,
    or when reading failed later (nothing else is kept). ``label`` is ``mp4``, ``mov``,
    ``avi``, ``webm``, ``matroska`` or the demuxer's first name. The first frame is decoded
    and the duration measured only when ``label`` is one the caller accepts.
    """

    opened: bool
    error: str | None = None
    has_video: bool = False
    label: str = ""
    long_name: str = ""
    frame_size: tuple[int, int] | None = None
    duration_s: float | None = None


def read_video(path: Path, accepted: frozenset[str]) -> VideoReading:
    """Read the video at ``path`` with PyAV in this process: container, first frame, duration.

    ``viggle_watch.intake.checks`` runs this in a child process (:func:`main`) unless PyAV is loaded
    already, so the long-running service never maps PyAV.
    """
    import av

    # FFmpegError covers every av error; a few PyAV paths raise plain OSError or ValueError.
    errors = (av.error.FFmpegError, OSError, ValueError, EOFError)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except errors as exc:
        return VideoReading(False, error=str(exc))
    try:
        with container:
            return _inspect(container, path, accepted)
    except errors as exc:
        return VideoReading(True, error=str(exc))


def _inspect(container: InputContainer, path: Path, accepted: frozenset[str]) -> VideoReading:
    if not container.streams.video:
        return VideoReading(True)
    stream = container.streams.video[0]
    label = _container_label(container, stream)
    seen = VideoReading(True, has_video=True, label=label, long_name=container.format.long_name)
    if label not in accepted:
        return seen
    frame = _first_frame(container, stream)
    if frame is None:
        return seen
    duration_s = _stated_duration_s(container, stream)
    if duration_s is None:
        duration_s = _scanned_duration_s(path)
    return replace(seen, frame_size=(frame.width, frame.height), duration_s=duration_s)


def _container_label(container: InputContainer, stream: VideoStream) -> str:
    """``mp4``, ``mov``, ``avi``, ``webm``, ``matroska`` or FFmpeg's first demuxer name."""
    names = container.format.name.split(",")
    if "mp4" in names:
        # one demuxer reads both; the major brand tells a QuickTime file from an MP4
        return "mov" if container.metadata.get("major_brand", "").startswith("qt") else "mp4"
    if "webm" in names:
        return "webm" if stream.codec_context.name in _WEBM_CODECS else "matroska"
    return names[0]


def _first_frame(container: InputContainer, stream: VideoStream) -> VideoFrame | None:
    """Decode until the first picture; None after too many packets without one.

    A packet that fails to decode is skipped, as players do, so one bad packet at the start
    does not condemn an otherwise playable file.
    """
    import av
    from av.video.frame import VideoFrame

    for count, packet in enumerate(container.demux(stream)):
        if count >= _MAX_PACKETS_TO_FIRST_FRAME:
            return None
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            continue
        for frame in frames:
            if isinstance(frame, VideoFrame):
                return frame
    return None


def _stated_duration_s(container: InputContainer, stream: VideoStream) -> float | None:
    """The duration the header states (stream's, else container's); None if it states none."""
    import av

    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _scanned_duration_s(path: Path) -> float:
    """The duration found by reading every packet's timestamps, without decoding.

    For files whose header states none, such as WebM recorded by a browser.
    """
    import av

    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        end = start
        for packet in container.demux(stream):
            if packet.pts is not None:
                end = max(end, packet.pts + (packet.duration or 0))
        return float((end - start) * (stream.time_base or Fraction(0)))


def main(argv: list[str]) -> int:
    """``python -m viggle_watch.media.probe PATH [LABEL ...]``: ``read_video``'s reading as JSON.

    What the child process of ``viggle_watch.intake.checks.read_video_isolated`` runs.
    """
    path, *accepted = argv
    reading = read_video(Path(path), frozenset(accepted))
    sys.stdout.write(json.dumps(asdict(reading)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
