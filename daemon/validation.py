"""Checks that decide, before any API call, whether an input file can be sent to Viggle.

A bad input file is data, not an exception: :func:`check_image` and :func:`check_video` return a
:class:`Problem` whose ``reason`` is one sentence a person understands, and
:func:`error_document` turns it into the ``NAME.error.json`` written beside the file in
``failed/``. Limits (``viggle-api.md`` §4):

============  =================================================================================
videos        at most 500 MB, 5 min and 4096x4096; at least 0.5 s and 64x64 (documented for
              scenes, applied to every video); containers by role — a ``driving`` video
              MP4/MOV/AVI (error-codes page), a ``scene`` video MP4/MOV/WebM (scenes page)
images        PNG or JPEG, plus WebP where the endpoint takes it (characters). The API
              documents no size or dimension limits, so these are ours: at most 50 MB, between
              64x64 and 8192x8192 pixels
============  =================================================================================

Every file is decoded, not just sniffed: an image is verified and fully loaded by Pillow; a
video must yield at least one decoded frame from PyAV. Cheap checks (empty, too big, dimensions)
come first so a huge or hostile file is refused without being decoded.
"""

from __future__ import annotations

import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image, UnidentifiedImageError

from daemon.clock import iso

SCHEMA_VERSION: Final = 1
_MB: Final = 1024 * 1024

IMAGE_FORMATS: Final = frozenset({"PNG", "JPEG"})
IMAGE_MAX_BYTES: Final = 50 * _MB
IMAGE_MIN_SIDE: Final = 64
IMAGE_MAX_SIDE: Final = 8192

VIDEO_CONTAINERS: Final[Mapping[str, frozenset[str]]] = {
    "driving": frozenset({"mp4", "mov", "avi"}),
    "scene": frozenset({"mp4", "mov", "webm"}),
}
"""Containers each role accepts: render/create (error-codes page) and scenes/create."""
VIDEO_MAX_BYTES: Final = 500 * _MB
VIDEO_MAX_DURATION_S: Final = 300.0
VIDEO_MIN_DURATION_S: Final = 0.5
VIDEO_MAX_SIDE: Final = 4096
VIDEO_MIN_SIDE: Final = 64

_MAX_PACKETS_TO_FIRST_FRAME: Final = 600
"""A stream cut mid-GOP may need a whole GOP before a keyframe; garbage gives up here."""
_WEBM_CODECS: Final = frozenset({"vp8", "vp9", "av1"})
"""WebM is Matroska restricted to these codecs; H.264 in Matroska is an .mkv."""
_NAMES: Final[Mapping[str, str]] = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "WEBP": "WebP",
    "mp4": "MP4",
    "mov": "MOV",
    "avi": "AVI",
    "webm": "WebM",
    "matroska": "Matroska (MKV)",
}
_IMAGE_ALIASES: Final[Mapping[str, str]] = {"MPO": "JPEG"}
"""Cameras write multi-picture JPEGs that Pillow calls MPO; they are JPEG files."""
_VIDEO_SIGNATURES: Final = (b"ftyp", b"moov", b"mdat", b"free", b"wide")
"""ISO-BMFF / QuickTime box types found at byte 4 of an MP4 or MOV file."""

# Pillow's plugins raise any of these on corrupt or hostile data, depending on the format.
_PILLOW_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
# FFmpegError covers every av error; a few PyAV paths raise plain OSError or ValueError.
_AV_ERRORS: Final = (av.error.FFmpegError, OSError, ValueError, EOFError)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file cannot be sent: a stable ``code``, a plain sentence and the measured values."""

    code: str
    reason: str
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class VideoFacts:
    """What an accepted video measured; ``container`` is ``mp4``, ``mov``, ``avi`` or ``webm``."""

    duration_s: float
    width: int
    height: int
    container: str


def _say_size(size: int) -> str:
    """``612 MB``, ``3.4 MB`` or ``12 KB``: a file size for a person."""
    if size < _MB:
        return f"{max(1, round(size / 1024))} KB"
    mb = size / _MB
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"


def _say_duration(seconds: float) -> str:
    """``0.3 s``, ``42 s``, ``5 min`` or ``6 min 12 s``: a duration for a person."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if minutes == 0:
        return f"{rest} s"
    return f"{minutes} min" if rest == 0 else f"{minutes} min {rest} s"


def _beside_limit(measured: str, limit: str, precise: str) -> str:
    """``measured``, unless rounding made it read the same as ``limit``: then ``precise``."""
    return precise if measured == limit else measured


def _say_formats(formats: frozenset[str]) -> str:
    """``PNG or JPEG`` / ``MP4, MOV or AVI``: the order of :data:`_NAMES`, the usual first."""
    names = [name for key, name in _NAMES.items() if key in formats]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _file_size(path: Path) -> int | Problem:
    """The size of the regular file at ``path``, or the problem that stops us reading it."""
    try:
        info = path.stat()
    except OSError as exc:
        reason = f"The file could not be read: {exc.strerror or exc}."
        return Problem("unreadable", reason, {"error": str(exc)})
    if not stat.S_ISREG(info.st_mode):
        # opening a FIFO or device would block forever
        return Problem("unreadable", "The path is not a regular file.", {})
    if info.st_size == 0:
        reason = "The file is empty (0 bytes); the copy may have failed or not finished."
        return Problem("empty_file", reason, {"size": 0})
    return info.st_size


def check_image(path: Path, *, allow_webp: bool = True) -> Problem | None:
    """Return why the image at ``path`` cannot be sent to Viggle, or None if it can.

    Accepts PNG and JPEG (and WebP when ``allow_webp``), at most 50 MB, between 64x64 and
    8192x8192 pixels. The API documents no image limits; these are ours, chosen to refuse what
    is surely useless (thumbnails, decompression bombs) before any credit is spent.
    """
    size = _file_size(path)
    if isinstance(size, Problem):
        return size
    if size > IMAGE_MAX_BYTES:
        said = _beside_limit(_say_size(size), _say_size(IMAGE_MAX_BYTES), f"{size:,} bytes")
        reason = f"The image file is {said}; images may be at most 50 MB."
        return Problem("image_too_big", reason, {"size": size})
    formats = (IMAGE_FORMATS | {"WEBP"}) if allow_webp else IMAGE_FORMATS
    return _inspect_image(path, size, formats)


def _inspect_image(path: Path, size: int, formats: frozenset[str]) -> Problem | None:
    """Open the image for its format and size, then verify and fully decode it."""
    detail: dict[str, object] = {"size": size}
    try:
        with Image.open(path) as image:
            found = _IMAGE_ALIASES.get(image.format or "", image.format or "unknown")
            detail.update(format=found, width=image.width, height=image.height)
            problem = _image_limits(found, image.width, image.height, formats, detail)
            if problem is not None:
                return problem
            image.verify()  # checksums (PNG CRCs) that decoding alone ignores
        with Image.open(path) as image:
            image.load()  # decodes every pixel: a truncated file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow warns above ~89 Mpx and refuses above twice that; with warnings shown (not
        # raised) the dimension check refuses it instead, with the measured size.
        reason = "The image has too many pixels to open safely; images may be at most 8192x8192."
        return Problem("image_too_large", reason, {**detail, "error": str(exc)})
    except UnidentifiedImageError:
        reason = f"The file is not an image that can be read; expected {_say_formats(formats)}."
        return Problem("not_an_image", reason, detail)
    except _PILLOW_ERRORS as exc:
        kind = _NAMES.get(str(detail.get("format")), "image")
        reason = f"The {kind} file is damaged or incomplete and cannot be decoded."
        return Problem("unreadable", reason, {**detail, "error": str(exc)})
    return None


def _image_limits(
    found: str, width: int, height: int, formats: frozenset[str], detail: dict[str, object]
) -> Problem | None:
    """The format and dimension rules for an opened image."""
    if found not in formats:
        reason = (
            f"The image is a {_NAMES.get(found, found)}; Viggle accepts {_say_formats(formats)}."
        )
        return Problem("image_format", reason, detail)
    if min(width, height) < IMAGE_MIN_SIDE:
        reason = f"The image is {width}x{height} pixels; images must be at least 64x64."
        return Problem("image_too_small", reason, detail)
    if max(width, height) > IMAGE_MAX_SIDE:
        reason = f"The image is {width}x{height} pixels; images may be at most 8192x8192."
        return Problem("image_too_large", reason, detail)
    return None


def check_video(path: Path, *, role: str = "driving") -> VideoFacts | Problem:
    """Measure the video at ``path`` and return its facts, or why Viggle would refuse it.

    ``role`` is ``driving`` (a render's video: MP4/MOV/AVI) or ``scene`` (MP4/MOV/WebM); it
    also names the video in the reason. Raises ``ValueError`` for any other role.
    """
    if role not in VIDEO_CONTAINERS:
        raise ValueError(f"unknown video role {role!r}; expected one of {sorted(VIDEO_CONTAINERS)}")
    size = _file_size(path)
    if isinstance(size, Problem):
        return size
    if size > VIDEO_MAX_BYTES:
        said = _beside_limit(_say_size(size), _say_size(VIDEO_MAX_BYTES), f"{size:,} bytes")
        reason = f"The video file is {said}; Viggle accepts at most 500 MB."
        return Problem("video_too_big", reason, {"size": size})
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except _AV_ERRORS as exc:
        return _unopenable(path, size, exc)
    try:
        with container:
            return _inspect_video(container, path, size, role)
    except _AV_ERRORS as exc:
        reason = "The file looks like a video but cannot be read; it may be damaged or incomplete."
        return Problem("unreadable", reason, {"size": size, "error": str(exc)})


def _unopenable(path: Path, size: int, exc: Exception) -> Problem:
    """The problem for a file FFmpeg cannot open: damaged video, or no video at all."""
    detail: dict[str, object] = {"size": size, "error": str(exc)}
    if _looks_like_video(path):
        reason = "The file looks like a video but cannot be read; it may be damaged or incomplete."
        return Problem("unreadable", reason, detail)
    return Problem("not_a_video", "The file is not a video that can be read.", detail)


def _looks_like_video(path: Path) -> bool:
    """True when the first bytes carry an MP4/MOV, AVI or Matroska/WebM signature."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return (
        head[4:8] in _VIDEO_SIGNATURES
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
        or head[:4] == b"\x1a\x45\xdf\xa3"
    )


def _container_label(container: InputContainer, stream: VideoStream) -> str:
    """``mp4``, ``mov``, ``avi``, ``webm``, ``matroska`` or FFmpeg's first demuxer name."""
    names = container.format.name.split(",")
    if "mp4" in names:
        # one demuxer reads both; the major brand tells a QuickTime file from an MP4
        return "mov" if container.metadata.get("major_brand", "").startswith("qt") else "mp4"
    if "webm" in names:
        return "webm" if stream.codec_context.name in _WEBM_CODECS else "matroska"
    return names[0]


def _inspect_video(
    container: InputContainer, path: Path, size: int, role: str
) -> VideoFacts | Problem:
    """Check the opened video's stream, container, first frame and limits."""
    detail: dict[str, object] = {"size": size}
    if not container.streams.video:
        return Problem("not_a_video", "The file holds no video stream (audio only?).", detail)
    stream = container.streams.video[0]
    label = _container_label(container, stream)
    detail["format"] = label
    if label.endswith("_pipe") or label == "image2":
        return Problem("not_a_video", "The file is a still image, not a video.", detail)
    if label not in VIDEO_CONTAINERS[role]:
        accepted = _say_formats(VIDEO_CONTAINERS[role])
        name = _NAMES.get(label, container.format.long_name)
        reason = f"The {role} video is in {name} format; Viggle accepts {accepted}."
        return Problem("video_format", reason, detail)
    frame = _first_frame(container, stream)
    if frame is None:
        reason = f"The {role} video has no frame that can be decoded; it may be damaged."
        return Problem("unreadable", reason, detail)
    duration_s = _stated_duration_s(container, stream)
    if duration_s is None:
        duration_s = _scanned_duration_s(path)
    facts = VideoFacts(duration_s, frame.width, frame.height, label)
    return _video_limits(facts, role, detail)


def _first_frame(container: InputContainer, stream: VideoStream) -> VideoFrame | None:
    """Decode until the first picture; None after too many packets without one.

    A packet that fails to decode is skipped, as players do, so one bad packet at the start
    does not condemn an otherwise playable file.
    """
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
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _scanned_duration_s(path: Path) -> float:
    """The duration found by reading every packet's timestamps, without decoding.

    For files whose header states none, such as WebM recorded by a browser.
    """
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        end = start
        for packet in container.demux(stream):
            if packet.pts is not None:
                end = max(end, packet.pts + (packet.duration or 0))
        return float((end - start) * (stream.time_base or Fraction(0)))


def _video_limits(facts: VideoFacts, role: str, detail: dict[str, object]) -> VideoFacts | Problem:
    """The API's duration and resolution limits for a decoded video."""
    detail = {**detail, "duration_s": round(facts.duration_s, 3)}
    detail.update(width=facts.width, height=facts.height)
    duration_s = facts.duration_s
    length = _say_duration(duration_s)
    if length in {_say_duration(VIDEO_MAX_DURATION_S), _say_duration(VIDEO_MIN_DURATION_S)}:
        length = f"{duration_s:.2f} s"  # 300.04 s must not read "5 min" next to a 5 min limit
    pixels = f"{facts.width}x{facts.height} pixels"
    if facts.duration_s > VIDEO_MAX_DURATION_S:
        reason = f"The {role} video is {length} long; Viggle accepts at most 5 min."
        return Problem("video_too_long", reason, detail)
    if max(facts.width, facts.height) > VIDEO_MAX_SIDE:
        reason = f"The {role} video is {pixels}; Viggle accepts at most 4096x4096."
        return Problem("video_resolution", reason, detail)
    if facts.duration_s < VIDEO_MIN_DURATION_S:
        reason = f"The {role} video is {length} long; Viggle needs at least 0.5 s."
        return Problem("video_too_short", reason, detail)
    if min(facts.width, facts.height) < VIDEO_MIN_SIDE:
        reason = f"The {role} video is {pixels}; Viggle needs at least 64x64."
        return Problem("video_too_small", reason, detail)
    return facts


def error_document(path: Path, problem: Problem, *, rule: str, at: float) -> dict[str, object]:
    """The JSON document written as ``NAME.error.json`` beside a rejected file in ``failed/``.

    ``at`` is epoch seconds; it is written as ISO-8601 UTC.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "file": path.name,
        "path": str(path),
        "rule": rule,
        "code": problem.code,
        "reason": problem.reason,
        "detail": dict(problem.detail),
        "at": iso(at),
    }
