"""Tests for daemon.media: real PNG / H.264 MP4 test media and video probing."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import pytest
from PIL import Image

from daemon.media import make_character_png, make_driving_mp4, video_duration_s


def test_character_png_decodes_with_pillow(tmp_path: Path) -> None:
    """The character image is a real PNG of the requested size."""
    path = make_character_png(tmp_path / "hero.png", size=(200, 300), seed=3)
    with Image.open(path) as image:
        image.load()
        assert (image.format, image.size, image.mode) == ("PNG", (200, 300), "RGB")


def test_character_png_bytes_depend_only_on_seed(tmp_path: Path) -> None:
    """Different seeds give different bytes; the same seed gives the same bytes."""
    first = make_character_png(tmp_path / "a.png", seed=1).read_bytes()
    again = make_character_png(tmp_path / "b.png", seed=1).read_bytes()
    other = make_character_png(tmp_path / "c.png", seed=2).read_bytes()
    assert first == again
    assert first != other


def test_driving_mp4_decodes_as_h264_yuv420p(tmp_path: Path) -> None:
    """The driving video is H.264 yuv420p of the requested size with seconds*fps frames."""
    path = make_driving_mp4(tmp_path / "dance.mp4", seconds=2.0, fps=12, size=(160, 96))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
    assert len(frames) == 24
    assert {(frame.width, frame.height) for frame in frames} == {(160, 96)}


@pytest.mark.parametrize(("seconds", "fps"), [(2.0, 12), (1.0, 24), (3.5, 10)])
def test_driving_mp4_lasts_the_requested_seconds(tmp_path: Path, seconds: float, fps: int) -> None:
    """video_duration_s of a generated video is within one frame of the requested length."""
    path = make_driving_mp4(tmp_path / "dance.mp4", seconds=seconds, fps=fps)
    assert video_duration_s(path) == pytest.approx(seconds, abs=1 / fps)


def test_driving_mp4_bytes_differ_by_seed(tmp_path: Path) -> None:
    """Different seeds give different video bytes."""
    first = make_driving_mp4(tmp_path / "a.mp4", seed=1).read_bytes()
    other = make_driving_mp4(tmp_path / "b.mp4", seed=2).read_bytes()
    assert first != other


def test_video_duration_s_rejects_a_non_video(tmp_path: Path) -> None:
    """Probing a file that is not a video raises PyAV's error."""
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"this is not a video" * 50)
    with pytest.raises(av.error.FFmpegError):
        video_duration_s(path)


def test_video_duration_s_rejects_a_file_without_video(tmp_path: Path) -> None:
    """An audio-only file opens but has no video stream: ValueError."""
    path = tmp_path / "beep.wav"
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x01" * 8000)
    with pytest.raises(ValueError, match="no video stream"):
        video_duration_s(path)
