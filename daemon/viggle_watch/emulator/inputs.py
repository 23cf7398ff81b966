"""Uploaded and URL inputs of the emulator, validated for real (Pillow and PyAV).

Images must decode fully; videos are probed (container, size, duration, first frame decoded)
and rejected with the documented ``CS-ORIV-*`` codes. URL inputs are "downloaded" only from the
emulator itself (``/_sim/files/...`` or its own signed ``/cdn/...`` URLs): the emulator makes no
network calls, so any other host is refused with 400 CS-UORC01-002.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

import av
from PIL import Image

from viggle_watch.emulator.replies import (
    CODE_VIDEO_FORMAT,
    CODE_VIDEO_TOO_BIG,
    CODE_VIDEO_TOO_LONG,
    CODE_VIDEO_TOO_WIDE,
    CODE_VIDEO_UNREADABLE,
    Rejection,
    invalid,
    rejected,
)
from viggle_watch.emulator.wire import HttpRequest
from viggle_watch.media.probe import VideoProbe, probe_video
from viggle_watch.serving import is_loopback_host

RENDER_IMAGE_FORMATS: Final = frozenset({"PNG", "JPEG"})
CHARACTER_IMAGE_FORMATS: Final = frozenset({"PNG", "JPEG", "WEBP"})
RENDER_CONTAINERS: Final = frozenset({"mp4", "mov", "avi"})
"""The error-codes page: MP4/MOV/AVI (the render page names only MP4)."""
SCENE_CONTAINERS: Final = frozenset({"mp4", "mov", "webm"})
"""The scenes page: MP4/MOV/WebM."""

Resolver = Callable[[str, Mapping[str, str]], bytes | None]
"""Maps an emulator path and its query to the bytes it serves, or None."""


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """The API's video limits (spec §4); tests pass smaller ones."""

    max_bytes: int = 500 * 1024 * 1024
    max_duration_s: float = 300.0
    max_side: int = 4096
    min_duration_s: float = 0.5
    min_side: int = 64


@dataclass(frozen=True, slots=True)
class Video:
    """An accepted video: its probe and the sha256 of its bytes."""

    probe: VideoProbe
    sha256: str


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def check_image(data: bytes, formats: frozenset[str], field: str) -> str | Rejection:
    """Return the image's sha256 if Pillow decodes all of it as one of ``formats``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            image.load()  # decodes every pixel: a truncated file fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        image_format = None
    if image_format not in formats:
        names = "/".join(sorted(formats))
        return invalid(f"{field} is not a readable {names} image", f"Upload a {names} image")
    return sha256_hex(data)


def check_video(
    data: bytes, containers: frozenset[str], limits: VideoLimits = VideoLimits()
) -> Video | Rejection:
    """Probe ``data``; return it as a :class:`Video` or the 400 that rejects it."""
    if len(data) > limits.max_bytes:
        return rejected(CODE_VIDEO_TOO_BIG, "Video file is over 500 MB", "Upload a smaller file")
    try:
        probe = probe_video(data)
    except (av.error.FFmpegError, ValueError, OSError):
        return rejected(CODE_VIDEO_UNREADABLE, "Video unreadable", "Upload a valid video file")
    if not probe.container & containers:
        names = "/".join(sorted(c.upper() for c in containers))
        return rejected(CODE_VIDEO_FORMAT, "Unsupported video format", f"Upload {names}")
    if probe.duration_s > limits.max_duration_s:
        return rejected(CODE_VIDEO_TOO_LONG, "Video is longer than 5 minutes", "Trim the video")
    if max(probe.width, probe.height) > limits.max_side:
        message = f"Resolution {probe.width}x{probe.height} is above 4096x4096"
        return rejected(CODE_VIDEO_TOO_WIDE, message, "Downscale the video")
    if probe.duration_s < limits.min_duration_s:
        return invalid(f"Video is shorter than {limits.min_duration_s:g} s")
    if min(probe.width, probe.height) < limits.min_side:
        return invalid(f"Video is smaller than {limits.min_side}x{limits.min_side}")
    return Video(probe=probe, sha256=sha256_hex(data))


def is_present(request: HttpRequest, field: str) -> bool:
    """True when the form carries ``field`` as a named file part or a non-empty value."""
    upload = request.files.get(field)
    return bool(upload and upload.filename) or bool(request.form.get(field, "").strip())


def uploaded(request: HttpRequest, field: str) -> bytes | None:
    """The bytes of file part ``field``, or None when there is none."""
    upload = request.files.get(field)
    return upload.data if upload is not None and upload.filename else None


def fetch_url(url: str, request: HttpRequest, resolve: Resolver, field: str) -> bytes | Rejection:
    """Fetch ``url`` from the emulator itself; refuse any other host or a missing file."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        port = -1
    own = parts.netloc == request.host or (
        is_loopback_host(parts.hostname or "") and port == request.server_port
    )
    if parts.scheme not in ("http", "https") or not own:
        message = f"Cannot fetch {field}: the emulator fetches only its own /_sim/files and /cdn"
        return invalid(message, "Host the file with PUT /_sim/files/{name}")
    data = resolve(parts.path, dict(parse_qsl(parts.query)))
    if data is None:
        return invalid(f"Cannot fetch {field}: the URL answered no file", "Check the URL")
    return data


def read_input(
    request: HttpRequest, field: str, resolve: Resolver, url_field: str | None = None
) -> bytes | Rejection | None:
    """The bytes of file ``field`` or of the URL in ``url_field``; None if neither was sent."""
    data = uploaded(request, field)
    if data is not None:
        return data
    url = request.form.get(url_field or f"{field}_url", "").strip()
    if not url:
        return None
    return fetch_url(url, request, resolve, url_field or f"{field}_url")
