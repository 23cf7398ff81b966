"""Tests for viggle_watch.intake.checks; every file is made in ``tmp_path``."""

from __future__ import annotations

import json
import struct
import subprocess
import wave
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from viggle_watch.intake import checks as validation
from viggle_watch.intake.checks import (
    IMAGE_MAX_BYTES,
    READ_TIMEOUT_S,
    VIDEO_CONTAINERS,
    VIDEO_MAX_BYTES,
    Problem,
    VideoFacts,
    check_image,
    check_video,
    error_document,
    read_video_isolated,
)
from viggle_watch.media.probe import VideoReading, read_video
from viggle_watch.media.synth import make_character_png, make_driving_mp4, make_video


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """Write a PNG whose header claims ``width``x``height`` but whose pixel data is a stub."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b""))
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


def test_good_png_and_jpeg_pass(tmp_path: Path) -> None:
    """A real PNG and a real JPEG of ordinary size are accepted."""
    png = make_character_png(tmp_path / "hero.png")
    jpeg = write_image(tmp_path / "hero.jpg", "JPEG")
    assert (check_image(png), check_image(jpeg)) == (None, None)


def test_camera_mpo_jpeg_counts_as_jpeg(tmp_path: Path) -> None:
    """A multi-picture JPEG (Pillow says MPO; cameras write them) is a JPEG."""
    path = tmp_path / "hero.jpg"
    first, second = Image.new("RGB", (96, 96), (1, 2, 3)), Image.new("RGB", (96, 96), (4, 5, 6))
    first.save(path, format="MPO", save_all=True, append_images=[second])
    with Image.open(path) as image:
        assert image.format == "MPO"
    assert check_image(path, allow_webp=False) is None


def test_zero_byte_image_and_video_are_empty(tmp_path: Path) -> None:
    """Zero-byte files are refused as empty, not as undecodable."""
    (tmp_path / "hero.png").write_bytes(b"")
    (tmp_path / "dance.mp4").write_bytes(b"")
    empty = Problem(
        "empty_file",
        "The file is empty (0 bytes); the copy may have failed or not finished.",
        {"size": 0},
    )
    assert (check_image(tmp_path / "hero.png"), check_video(tmp_path / "dance.mp4")) == (
        empty,
        empty,
    )


def test_truncated_png_is_unreadable(tmp_path: Path) -> None:
    """A PNG cut in half opens (its header is intact) but fails to decode."""
    good = make_character_png(tmp_path / "good.png").read_bytes()
    path = tmp_path / "hero.png"
    path.write_bytes(good[: len(good) // 2])
    assert without_error(check_image(path)) == (
        "unreadable",
        "The PNG file is damaged or incomplete and cannot be decoded.",
        {"size": len(good) // 2, "format": "PNG", "width": 256, "height": 256},
    )


def test_png_with_a_bad_checksum_is_unreadable(tmp_path: Path) -> None:
    """A PNG whose pixel-data CRC is wrong is caught by verify(); decoding alone skips it."""
    data = bytearray(make_character_png(tmp_path / "good.png").read_bytes())
    at = data.find(b"IDAT")
    (length,) = struct.unpack(">I", data[at - 4 : at])
    data[at + 4 + length] ^= 0xFF  # first byte of the IDAT chunk's CRC
    path = tmp_path / "hero.png"
    path.write_bytes(bytes(data))
    assert without_error(check_image(path)) == (
        "unreadable",
        "The PNG file is damaged or incomplete and cannot be decoded.",
        {"size": len(data), "format": "PNG", "width": 256, "height": 256},
    )


def test_text_file_named_png_is_not_an_image(tmp_path: Path) -> None:
    """Text behind a .png extension is not an image."""
    path = tmp_path / "hero.png"
    path.write_text("this is not a picture\n", encoding="utf-8")
    assert check_image(path) == Problem(
        "not_an_image",
        "The file is not an image that can be read; expected PNG, JPEG or WebP.",
        {"size": 22},
    )


def test_gif_is_the_wrong_format(tmp_path: Path) -> None:
    """A GIF decodes but is not a format Viggle takes."""
    path = write_image(tmp_path / "hero.gif", "GIF")
    assert check_image(path, allow_webp=False) == Problem(
        "image_format",
        "The image is a GIF; Viggle accepts PNG or JPEG.",
        {"size": path.stat().st_size, "format": "GIF", "width": 96, "height": 96},
    )


def test_webp_is_accepted_unless_refused(tmp_path: Path) -> None:
    """WebP passes by default and is refused with allow_webp=False."""
    path = write_image(tmp_path / "hero.webp", "WEBP")
    refused = check_image(path, allow_webp=False)
    assert (check_image(path), without_error(refused)[:2]) == (
        None,
        ("image_format", "The image is a WebP; Viggle accepts PNG or JPEG."),
    )


def test_tiny_image_is_too_small(tmp_path: Path) -> None:
    """A 10x10 image is below the 64x64 minimum."""
    path = write_image(tmp_path / "hero.png", "PNG", size=(10, 10))
    assert check_image(path) == Problem(
        "image_too_small",
        "The image is 10x10 pixels; images must be at least 64x64.",
        {"size": path.stat().st_size, "format": "PNG", "width": 10, "height": 10},
    )


def test_image_over_8192_is_too_large_without_decoding(tmp_path: Path) -> None:
    """A header claiming 9000x9000 is refused on its dimensions alone (the pixels are a stub)."""
    path = png_header_only(tmp_path / "hero.png", 9000, 9000)
    assert check_image(path) == Problem(
        "image_too_large",
        "The image is 9000x9000 pixels; images may be at most 8192x8192.",
        {"size": path.stat().st_size, "format": "PNG", "width": 9000, "height": 9000},
    )


@pytest.mark.parametrize("side", [10_000, 100_000])
def test_decompression_bomb_is_refused_not_raised(tmp_path: Path, side: int) -> None:
    """Pillow's bomb warning (10k²) and bomb error (100k²) become a too-large problem."""
    path = png_header_only(tmp_path / "bomb.png", side, side)
    assert without_error(check_image(path)) == (
        "image_too_large",
        "The image has too many pixels to open safely; images may be at most 8192x8192.",
        {"size": path.stat().st_size},
    )


def test_image_over_50_mb_is_refused_unread(tmp_path: Path) -> None:
    """A file over 50 MB is refused on its size, before Pillow reads it."""
    path = sparse(tmp_path / "hero.png", IMAGE_MAX_BYTES + 1)
    assert check_image(path) == Problem(
        "image_too_big",
        "The image file is 52,428,801 bytes; images may be at most 50 MB.",
        {"size": IMAGE_MAX_BYTES + 1},
    )


def test_missing_file_and_directory_are_unreadable(tmp_path: Path) -> None:
    """A vanished path and a directory are unreadable, and nothing raises."""
    (tmp_path / "folder.mp4").mkdir()
    missing = check_image(tmp_path / "gone.png")
    folder = check_video(tmp_path / "folder.mp4")
    assert (without_error(missing)[:2], folder) == (
        ("unreadable", "The file could not be read: No such file or directory."),
        Problem("unreadable", "The path is not a regular file.", {}),
    )


def test_good_mp4_passes_with_its_facts(tmp_path: Path) -> None:
    """A 2 s 160x96 H.264 MP4 is accepted and measured."""
    path = make_driving_mp4(tmp_path / "dance.mp4", seconds=2.0, fps=12, size=(160, 96))
    assert check_video(path) == VideoFacts(duration_s=2.0, width=160, height=96, container="mp4")


@pytest.mark.parametrize(
    ("muxer", "suffix", "label"), [("mov", "mov", "mov"), ("avi", "avi", "avi")]
)
def test_mov_and_avi_pass_as_driving_videos(
    tmp_path: Path, muxer: str, suffix: str, label: str
) -> None:
    """MOV (told from MP4 by its brand) and AVI are accepted driving containers."""
    path = make_video(tmp_path / f"dance.{suffix}", container_format=muxer, size=(64, 64))
    assert check_video(path) == VideoFacts(2.0, 64, 64, label)


def test_truncated_mp4_is_unreadable(tmp_path: Path) -> None:
    """An MP4 cut in half still carries its signature, so it reads as damaged, not foreign."""
    good = make_driving_mp4(tmp_path / "good.mp4").read_bytes()
    path = tmp_path / "dance.mp4"
    path.write_bytes(good[: len(good) // 2])
    assert without_error(check_video(path)) == (
        "unreadable",
        "The file looks like a video but cannot be read; it may be damaged or incomplete.",
        {"size": len(good) // 2},
    )


def test_text_file_named_mp4_is_not_a_video(tmp_path: Path) -> None:
    """Text behind a .mp4 extension is not a video."""
    path = tmp_path / "dance.mp4"
    path.write_text("hello, I am a text file\n", encoding="utf-8")
    assert without_error(check_video(path)) == (
        "not_a_video",
        "The file is not a video that can be read.",
        {"size": 24},
    )


def test_audio_and_still_image_named_mp4_are_not_videos(tmp_path: Path) -> None:
    """A WAV holds no video stream; a PNG is a still image: neither is a video."""
    audio = check_video(write_wav(tmp_path / "a.mp4"))
    still = check_video(make_character_png(tmp_path / "b.mp4"))
    assert (without_error(audio)[:2], without_error(still)[:2]) == (
        ("not_a_video", "The file holds no video stream (audio only?)."),
        ("not_a_video", "The file is a still image, not a video."),
    )


def test_short_video_is_too_short(tmp_path: Path) -> None:
    """A 0.3 s video is under the 0.5 s minimum."""
    path = make_video(tmp_path / "dance.mp4", seconds=0.3, fps=10, size=(64, 64))
    assert check_video(path) == Problem(
        "video_too_short",
        "The driving video is 0.3 s long; Viggle needs at least 0.5 s.",
        {
            "size": path.stat().st_size,
            "format": "mp4",
            "duration_s": 0.3,
            "width": 64,
            "height": 64,
        },
    )


def test_video_over_five_minutes_is_too_long(tmp_path: Path) -> None:
    """A 301 s video (1 fps, 64x64: cheap to make) is over the 5 minute limit."""
    path = make_video(tmp_path / "dance.mp4", seconds=301, fps=1, size=(64, 64))
    assert check_video(path, role="scene") == Problem(
        "video_too_long",
        "The scene video is 5 min 1 s long; Viggle accepts at most 5 min.",
        {
            "size": path.stat().st_size,
            "format": "mp4",
            "duration_s": 301.0,
            "width": 64,
            "height": 64,
        },
    )


def test_just_over_five_minutes_does_not_read_as_five_minutes(tmp_path: Path) -> None:
    """300.5 s would round to "5 min" beside a 5 min limit; the reason gives seconds instead."""
    path = make_video(tmp_path / "dance.mp4", seconds=300.5, fps=2, size=(64, 64))
    assert without_error(check_video(path))[:2] == (
        "video_too_long",
        "The driving video is 300.50 s long; Viggle accepts at most 5 min.",
    )


def test_small_video_is_too_small(tmp_path: Path) -> None:
    """A 32x32 video is under the 64x64 minimum."""
    path = make_video(tmp_path / "dance.mp4", seconds=1.0, fps=4, size=(32, 32))
    assert without_error(check_video(path))[:2] == (
        "video_too_small",
        "The driving video is 32x32 pixels; Viggle needs at least 64x64.",
    )


def test_video_wider_than_4096_is_refused(tmp_path: Path) -> None:
    """A 4098x64 video is above the 4096x4096 resolution limit."""
    path = make_video(tmp_path / "dance.mp4", seconds=1.0, fps=2, size=(4098, 64))
    assert without_error(check_video(path))[:2] == (
        "video_resolution",
        "The driving video is 4098x64 pixels; Viggle accepts at most 4096x4096.",
    )


def test_video_over_500_mb_is_refused_unread(tmp_path: Path) -> None:
    """A file over 500 MB is refused on its size, before PyAV opens it."""
    path = sparse(tmp_path / "dance.mp4", VIDEO_MAX_BYTES + 5 * 1024 * 1024)
    assert check_video(path) == Problem(
        "video_too_big",
        "The video file is 505 MB; Viggle accepts at most 500 MB.",
        {"size": VIDEO_MAX_BYTES + 5 * 1024 * 1024},
    )


def test_other_containers_are_the_wrong_format(tmp_path: Path) -> None:
    """H.264 in Matroska or MPEG-TS is refused, naming the container and what is accepted."""
    mkv = check_video(make_video(tmp_path / "a.mkv", container_format="matroska"))
    ts = check_video(make_video(tmp_path / "a.ts", container_format="mpegts"))
    assert (without_error(mkv), without_error(ts)[:2]) == (
        (
            "video_format",
            "The driving video is in Matroska (MKV) format; Viggle accepts MP4, MOV or AVI.",
            {"size": (tmp_path / "a.mkv").stat().st_size, "format": "matroska"},
        ),
        (
            "video_format",
            "The driving video is in MPEG-TS (MPEG-2 Transport Stream) format; "
            "Viggle accepts MP4, MOV or AVI.",
        ),
    )


def test_webm_is_a_scene_format_not_a_driving_one(tmp_path: Path) -> None:
    """WebM passes as a scene video and is refused as a driving video (the render page)."""
    path = write_webm(tmp_path / "dance.webm")
    assert (check_video(path, role="scene"), without_error(check_video(path))[:2]) == (
        VideoFacts(1.0, 64, 64, "webm"),
        ("video_format", "The driving video is in WebM format; Viggle accepts MP4, MOV or AVI."),
    )


def test_webm_without_a_stated_duration_is_measured_by_its_packets(tmp_path: Path) -> None:
    """A live WebM (as browsers record) states no duration; reading its timestamps finds it."""
    path = write_webm(tmp_path / "dance.webm", frames=24, live=True)
    assert check_video(path, role="scene") == VideoFacts(2.0, 64, 64, "webm")


def test_unknown_role_is_a_programming_error(tmp_path: Path) -> None:
    """An unknown role raises before touching the file."""
    with pytest.raises(ValueError, match="unknown video role 'portrait'"):
        check_video(tmp_path / "never-read.mp4", role="portrait")


def test_error_document_shape(tmp_path: Path) -> None:
    """The NAME.error.json document carries the file, rule, problem and a UTC timestamp."""
    problem = Problem("video_too_short", "The driving video is 0.3 s long.", {"duration_s": 0.3})
    path = tmp_path / "failed" / "dance.mp4"
    document = error_document(path, problem, rule="studio", at=1_700_000_000.0)
    assert json.loads(json.dumps(document)) == {
        "schema_version": 1,
        "file": "dance.mp4",
        "path": str(path),
        "rule": "studio",
        "code": "video_too_short",
        "reason": "The driving video is 0.3 s long.",
        "detail": {"duration_s": 0.3},
        "at": "2023-11-14T22:13:20.000+00:00",
    }


def reading_corpus(tmp_path: Path) -> list[Path]:
    """Files that take every path through the video reader: good, cut, foreign, no video."""
    good = make_driving_mp4(tmp_path / "good.mp4", seconds=1.0, size=(64, 64))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "text.mp4"
    text.write_text("hello, I am a text file\n", encoding="utf-8")
    return [
        good,
        cut,
        text,
        write_wav(tmp_path / "audio.mp4"),
        make_character_png(tmp_path / "still.mp4"),
        make_video(tmp_path / "a.mkv", seconds=1.0, container_format="matroska"),
        write_webm(tmp_path / "live.webm", frames=24, live=True),
    ]


def test_a_child_process_reads_videos_as_this_process_does(tmp_path: Path) -> None:
    """read_video_isolated (PyAV in a child) gives exactly read_video's answer, file by file."""
    accepted = VIDEO_CONTAINERS["scene"]
    files = reading_corpus(tmp_path)
    here = [read_video(path, accepted) for path in files]
    assert [read_video_isolated(path, accepted) for path in files] == here
    assert [(r.opened, r.has_video, r.label) for r in here] == [
        (True, True, "mp4"),
        (False, False, ""),  # cut: its index is gone, FFmpeg cannot open it
        (False, False, ""),
        (True, False, ""),
        (True, True, "png_pipe"),
        (True, True, "matroska"),
        (True, True, "webm"),
    ]


def fake_run(
    calls: list[dict[str, Any]], *, returncode: int = 0, stdout: bytes = b"", stderr: bytes = b""
) -> Any:
    """A stand-in for subprocess.run that records its keyword arguments."""

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        calls.append({"command": command, **kwargs})
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)

    return run


def test_the_child_gets_no_api_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key (variable or systemd credentials) is not passed on to the video reader."""
    monkeypatch.setenv("VIGGLE_API_KEY", "sk-secret-1234")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/viggle-watch")
    calls: list[dict[str, Any]] = []
    document = json.dumps(asdict(VideoReading(True, has_video=True, label="mp4")))
    monkeypatch.setattr(subprocess, "run", fake_run(calls, stdout=document.encode()))
    reading = read_video_isolated(tmp_path / "dance.mp4", frozenset({"mp4"}))
    (call,) = calls
    assert (reading, call["command"][1:3], call["command"][-2:], call["timeout"]) == (
        VideoReading(True, has_video=True, label="mp4"),
        ["-P", "-c"],
        [str(tmp_path / "dance.mp4"), "mp4"],
        READ_TIMEOUT_S,
    )
    assert {"VIGGLE_API_KEY", "CREDENTIALS_DIRECTORY"} & set(call["env"]) == set()


def test_a_crashed_or_stuck_child_means_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader killed by a signal or by the timeout: the file is unreadable, nothing raises."""
    monkeypatch.setattr(subprocess, "run", fake_run([], returncode=-11))
    crashed = read_video_isolated(tmp_path / "dance.mp4", frozenset({"mp4"}))

    def too_slow(command: list[str], **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", too_slow)
    stuck = read_video_isolated(tmp_path / "dance.mp4", frozenset({"mp4"}))
    assert (crashed, stuck) == (
        VideoReading(True, error="the video reader died of signal 11"),
        VideoReading(True, error="reading took longer than 600 s"),
    )


def test_a_child_that_cannot_run_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that fails on its own (not the file's fault) is an OSError, not a verdict."""
    failed = fake_run([], returncode=1, stderr=b"Traceback ...\nModuleNotFoundError: daemon\n")
    monkeypatch.setattr(subprocess, "run", failed)
    with pytest.raises(OSError, match=r"exit 1\): ModuleNotFoundError: daemon"):
        read_video_isolated(tmp_path / "dance.mp4", frozenset({"mp4"}))


def test_a_reader_crash_is_reported_as_a_damaged_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check_video turns a crashed reading into the unreadable problem, with the cause."""
    path = make_driving_mp4(tmp_path / "dance.mp4")
    crashed = VideoReading(True, error="the video reader died of signal 11")
    monkeypatch.setattr(validation, "read_video", lambda *_: crashed)
    assert check_video(path) == Problem(
        "unreadable",
        "The file looks like a video but cannot be read; it may be damaged or incomplete.",
        {"size": path.stat().st_size, "error": "the video reader died of signal 11"},
    )
