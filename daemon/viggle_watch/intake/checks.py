"""Checks that decide, before any API call, whether an input file can be sent to Viggle.

A bad input file is data, not an exception: :func:`check_image` and :func:`check_video` return a
:class:`Problem` whose ``reason`` is one sentence a person understands, and
:func:`error_document` turns it into the ``NAME.error.json`` written beside the file in
``failed/``. Limits (docs/viggle-api.md §4):

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
come first so a huge or hostile file is refused without being decoded. Pillow is imported on
the first image; PyAV runs in a short-lived child process (``viggle_watch.media.probe.main``) unless
this process has loaded it already, so the service never maps it (~17 MB) and a decoder crash
costs only the child.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from viggle_watch.apikey import child_env
from viggle_watch.children import child_command
from viggle_watch.media.probe import VideoReading, believed_length_s, read_video
from viggle_watch.outputs.failure import failure_document

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

READ_TIMEOUT_S: Final = 600.0
"""A child still reading a video after this long is killed and the file called unreadable."""
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


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file cannot be sent: a stable ``code``, a plain sentence and the measured values."""

    code: str
    reason: str
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class VideoFacts:
    """What an accepted video measured; ``container`` is ``mp4``, ``mov``, ``avi`` or ``webm``."""

    duration_s: float  # the larger of the header's figure and the packets' (what is charged)
    width: int
    height: int
    container: str
    # how the length was found (what the header states, what the packets run): detail
    stated_s: float | None = field(default=None, compare=False)
    played_s: float | None = field(default=None, compare=False)

    def length_note(self) -> str:
        """For the job's history, when the header and the packets disagree by more than
        ``LENGTH_TOLERANCE`` (smaller differences are normal: ``media.probe``)."""
        stated, played = self.stated_s, self.played_s
        if stated is None or played is None or believed_length_s(stated, played) == stated:
            return ""
        return (
            f"the video's header says {stated:.2f} s but its frames run {played:.2f} s;"
            f" estimated from {self.duration_s:.2f} s"
        )


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


def _file_size_within(path: Path, what: str, cap: int, code: str, limit: str) -> int | Problem:
    """The file's size, or the problem: unreadable, empty, or over ``cap`` bytes (``code``,
    with the ``limit`` in words)."""
    size = _file_size(path)
    if isinstance(size, Problem) or size <= cap:
        return size
    said = _beside_limit(_say_size(size), _say_size(cap), f"{size:,} bytes")
    reason = f"The {what} file is {said}; {limit}."
    return Problem(code, reason, {"size": size})


def check_image(path: Path, *, allow_webp: bool = True) -> Problem | None:
    """Return why the image at ``path`` cannot be sent to Viggle, or None if it can.

    Accepts PNG and JPEG (and WebP when ``allow_webp``), at most 50 MB, between 64x64 and
    8192x8192 pixels. The API documents no image limits; these are ours, chosen to refuse what
    is surely useless (thumbnails, decompression bombs) before any credit is spent.
    """
    size = _file_size_within(
        path, "image", IMAGE_MAX_BYTES, "image_too_big", "images may be at most 50 MB"
    )
    if isinstance(size, Problem):
        return size
    formats = (IMAGE_FORMATS | {"WEBP"}) if allow_webp else IMAGE_FORMATS
    return _inspect_image(path, size, formats)


def _inspect_image(path: Path, size: int, formats: frozenset[str]) -> Problem | None:
    """Open the image for its format and size, then verify and fully decode it."""
    from PIL import Image, UnidentifiedImageError

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
    size = _file_size_within(
        path, "video", VIDEO_MAX_BYTES, "video_too_big", "Viggle accepts at most 500 MB"
    )
    if isinstance(size, Problem):
        return size
    accepted = VIDEO_CONTAINERS[role]
    here = "av" in sys.modules  # a process that has PyAV already (tests, emulator) reads here
    reading = read_video(path, accepted) if here else read_video_isolated(path, accepted)
    return _judge_video(reading, path, size, role)


def read_video_isolated(path: Path, accepted: frozenset[str]) -> VideoReading:
    """:func:`~viggle_watch.media.probe.read_video` in a short-lived child, with the same answer.

    A child killed by a signal (a decoder crash) or still reading after ``READ_TIMEOUT_S`` is
    an unreadable file; raises ``OSError`` if the child cannot run at all.
    """
    env = child_env()  # as for hooks: no key
    command = child_command("viggle_watch.media.probe", [os.fspath(path), *sorted(accepted)])
    try:
        done = subprocess.run(  # noqa: S603 - our own code; the path is one argv item
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=READ_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return VideoReading(True, error=f"reading took longer than {READ_TIMEOUT_S:g} s")
    if done.returncode < 0:
        return VideoReading(True, error=f"the video reader died of signal {-done.returncode}")
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise OSError(f"the video reader failed (exit {done.returncode}): {''.join(tail)}")
    doc: dict[str, Any] = json.loads(done.stdout)
    size = doc.pop("frame_size")
    return VideoReading(**doc, frame_size=None if size is None else (int(size[0]), int(size[1])))


def _judge_video(reading: VideoReading, path: Path, size: int, role: str) -> VideoFacts | Problem:
    """The problem with what PyAV read, or the facts of an accepted container's video."""
    detail: dict[str, object] = {"size": size}
    if reading.error is not None and not reading.opened:
        return _unopenable(path, size, reading.error)
    if reading.error is not None:
        reason = "The file looks like a video but cannot be read; it may be damaged or incomplete."
        return Problem("unreadable", reason, {"size": size, "error": reading.error})
    if not reading.has_video:
        return Problem("not_a_video", "The file holds no video stream (audio only?).", detail)
    label = reading.label
    detail["format"] = label
    if label.endswith("_pipe") or label == "image2":
        return Problem("not_a_video", "The file is a still image, not a video.", detail)
    if label not in VIDEO_CONTAINERS[role]:
        accepted = _say_formats(VIDEO_CONTAINERS[role])
        name = _NAMES.get(label, reading.long_name)
        reason = f"The {role} video is in {name} format; Viggle accepts {accepted}."
        return Problem("video_format", reason, detail)
    if reading.frame_size is None or reading.duration_s is None:
        reason = f"The {role} video has no frame that can be decoded; it may be damaged."
        return Problem("unreadable", reason, detail)
    facts = VideoFacts(
        reading.duration_s,
        *reading.frame_size,
        label,
        reading.stated_duration_s,
        reading.played_duration_s,
    )
    return _video_limits(facts, role, detail)


def _unopenable(path: Path, size: int, error: str) -> Problem:
    """The problem for a file FFmpeg cannot open: damaged video, or no video at all."""
    detail: dict[str, object] = {"size": size, "error": error}
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
    """The ``NAME.error.json`` document for a file refused before any spending (its shape:
    ``outputs.filing.failure_document``)."""
    return failure_document(path, problem.code, problem.reason, problem.detail, rule=rule, at=at)
