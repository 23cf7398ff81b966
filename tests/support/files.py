"""Files made by hand for the intake checks' tests (and the bad-input corpus): PNG chunks, a PNG
whose header claims a size its pixels do not have, a copy cut in half, sparse files, plain
images, a WebM, a WAV; and how those tests compare a problem (``without_error``,
``mp4_detail``)."""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path

import av
from PIL import Image

from viggle_watch.intake.checks import Problem, VideoFacts


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """Write a PNG whose header claims ``width``x``height`` but whose pixel data is a stub."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b""))
    return path


def half_of(whole: Path, path: Path) -> Path:
    """Write the first half of ``whole`` to ``path`` (a copy that broke off); ``path``."""
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def sparse(path: Path, size: int) -> Path:
    """Write a file of ``size`` bytes without storing them (a sparse file of zeros)."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def write_image(path: Path, image_format: str, size: tuple[int, int] = (96, 96)) -> Path:
    """Write a plain-colour image of ``size`` in ``image_format`` (a Pillow format name)."""
    Image.new("RGB", size, (200, 40, 90)).save(path, format=image_format)
    return path


def write_webm(path: Path, *, frames: int = 12, live: bool = False) -> Path:
    """Write a 64x64 VP8 WebM at 12 fps; ``live`` omits the duration from the header."""
    options = {"live": "1"} if live else {}
    with av.open(str(path), mode="w", format="webm", options=options) as container:
        stream = container.add_stream("libvpx", rate=12, options={"deadline": "realtime"})
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(frames):
            image = Image.new("RGB", (64, 64), (index * 20, 0, 0))
            # PyAV's stubs leave VideoFrame.from_image unannotated.
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def write_wav(path: Path) -> Path:
    """Write one second of silent mono 8 kHz WAV audio to ``path``."""
    with wave.open(str(path), "wb") as audio:
        audio.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
        audio.writeframes(b"\0\0" * 8000)
    return path


def without_error(problem: Problem | VideoFacts | None) -> tuple[str, str, dict[str, object]]:
    """A problem's code, reason and detail minus the library's own error text (not stable)."""
    assert isinstance(problem, Problem)
    return problem.code, problem.reason, {k: v for k, v in problem.detail.items() if k != "error"}


def mp4_detail(path: Path, duration_s: float) -> dict[str, object]:
    """The detail of a problem with the 64x64 MP4 at ``path``, read as ``duration_s`` long."""
    return {
        "size": path.stat().st_size,
        "format": "mp4",
        "duration_s": duration_s,
        "width": 64,
        "height": 64,
    }


def understate_duration(video: Path, divide_by: int) -> None:
    """Edit an MP4's headers (``mvhd``, ``tkhd``, ``mdhd``, ``elst``; version 0 boxes) to claim
    a duration ``divide_by`` times shorter, leaving every frame in place: a header that lies."""
    data = bytearray(video.read_bytes())
    # box name → offset of its 32-bit duration from the box name's first byte (version 0)
    fields = {b"mvhd": 4 + 16, b"tkhd": 4 + 20, b"mdhd": 4 + 16, b"elst": 4 + 8}
    for name, offset in fields.items():
        start = 0
        while (at := data.find(name, start)) != -1:
            start = at + 4
            if data[at + 4] != 0:  # version 1 (64-bit fields): not made by our synth
                continue
            spot = at + offset
            value = int.from_bytes(data[spot : spot + 4], "big")
            data[spot : spot + 4] = max(1, value // divide_by).to_bytes(4, "big")
    video.write_bytes(bytes(data))
