"""Tests for viggle_watch.intake.checks, the images and the error document; every file is made
in ``tmp_path``. The videos and the reader in a child process: ``test_video_validation.py``."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from PIL import Image

from tests.support.files import (
    half_of,
    mp4_detail,
    png_header_only,
    sparse,
    without_error,
    write_image,
    write_wav,
)
from viggle_watch.intake.checks import (
    IMAGE_MAX_BYTES,
    Problem,
    VideoFacts,
    check_image,
    check_video,
    error_document,
)
from viggle_watch.media.synth import make_character_png, make_driving_mp4, make_video


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
    path = half_of(make_character_png(tmp_path / "good.png"), tmp_path / "hero.png")
    assert without_error(check_image(path)) == (
        "unreadable",
        "The PNG file is damaged or incomplete and cannot be decoded.",
        {"size": path.stat().st_size, "format": "PNG", "width": 256, "height": 256},
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
    path = half_of(make_driving_mp4(tmp_path / "good.mp4"), tmp_path / "dance.mp4")
    assert without_error(check_video(path)) == (
        "unreadable",
        "The file looks like a video but cannot be read; it may be damaged or incomplete.",
        {"size": path.stat().st_size},
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
        mp4_detail(path, 0.3),
    )


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
