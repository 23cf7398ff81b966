"""Reading videos: what the service and the emulator learn from a file with PyAV.

PyAV is imported by the functions that use it, never at import time: it maps ~17 MB into a
process, and the long-running service must not carry it (it reads videos in a short-lived child,
:func:`main`, through ``viggle_watch.intake.checks``).
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream


@dataclass(frozen=True, slots=True)
class VideoProbe:
    """What :func:`probe_video` learnt about a video without decoding all of it."""

    container: frozenset[str]
    """The demuxer's names, e.g. ``{"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}`` for MP4/MOV."""
    duration_s: float
    width: int
    height: int
    fps: float


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
    duration_s: float | None = None  # the larger of what the header states and the packets run
    stated_duration_s: float | None = None  # what the header states (it can lie: issue 14 §9)
    played_duration_s: float | None = None  # what the packets' timestamps run


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
    # the header's figure can be edited to anything; the packets' timestamps (read, not
    # decoded) tell how long it really plays: the credit estimate takes the larger
    stated, played = _stated_duration_s(container, stream), _scanned_duration_s(path)
    return replace(
        seen,
        frame_size=(frame.width, frame.height),
        duration_s=believed_length_s(stated, played),
        stated_duration_s=stated,
        played_duration_s=played,
    )


LENGTH_TOLERANCE: Final = 0.10
"""Edit lists, variable frame rates and a last frame's duration make header and packets differ
by a few per cent in honest files; beyond this share, the header is not believed."""


def believed_length_s(stated: float | None, played: float) -> float:
    """The length to estimate credits from: the header's, unless it states none or the packets
    run more than ``LENGTH_TOLERANCE`` away from it — then the larger of the two."""
    if stated is None:
        return played
    if abs(played - stated) <= LENGTH_TOLERANCE * max(played, stated):
        return stated
    return max(stated, played)


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
    """The duration found by reading every packet's timestamps, without decoding (for files
    whose header states none, such as WebM from a browser, and against headers that lie)."""
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
