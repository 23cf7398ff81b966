"""Tests for viggle_watch.media.probe: real PNG / H.264 MP4 test media and video probing."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import pytest
from PIL import Image

from viggle_watch.media.probe import VideoProbe, believed_length_s, probe_video, video_duration_s
from viggle_watch.media.synth import (
    RESULT_FPS,
    RESULT_SIZE,
    make_character_png,
    make_driving_mp4,
    make_result_mp4,
    make_video,
)


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


@pytest.mark.parametrize(
    ("container_format", "names"),
    [("mov", {"mov", "mp4"}), ("avi", {"avi"}), ("mpegts", {"mpegts"}), ("matroska", {"webm"})],
)
def test_make_video_writes_each_container(
    tmp_path: Path, container_format: str, names: set[str]
) -> None:
    """make_video writes the asked container; probe_video reports the demuxer's names."""
    path = make_video(tmp_path / "v.bin", seconds=1.0, container_format=container_format)
    probe = probe_video(path)
    assert names <= probe.container
    assert (probe.width, probe.height, probe.fps) == (128, 128, 12.0)
    assert probe.duration_s == pytest.approx(1.0, abs=1 / 12)


def test_probe_video_reads_bytes_too(tmp_path: Path) -> None:
    """probe_video takes the bytes of a file as well as its path, with the same answer."""
    path = make_driving_mp4(tmp_path / "d.mp4", seconds=1.5, size=(96, 64))
    assert probe_video(path.read_bytes()) == probe_video(path)
    assert probe_video(path) == VideoProbe(
        container=frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}),
        duration_s=1.5,
        width=96,
        height=64,
        fps=12.0,
    )


@pytest.mark.parametrize("data", [b"", b"\x00" * 64, b"not a video" * 40])
def test_probe_video_rejects_garbage(data: bytes) -> None:
    """Bytes that are not a video raise PyAV's error or ValueError."""
    with pytest.raises((av.error.FFmpegError, ValueError)):
        probe_video(data)


@pytest.mark.parametrize("seconds", [0.5, 2.0, 7.3])
def test_result_mp4_lasts_the_requested_seconds(seconds: float) -> None:
    """make_result_mp4 is a small MP4 of the requested length, to one frame."""
    probe = probe_video(make_result_mp4(seconds))
    assert (probe.width, probe.height, probe.fps) == (*RESULT_SIZE, RESULT_FPS)
    assert probe.duration_s == pytest.approx(seconds, abs=1 / RESULT_FPS)


def test_result_mp4_is_deterministic_and_mask_differs() -> None:
    """The same length gives the same bytes; the mask variant is another video."""
    assert make_result_mp4(1.0) == make_result_mp4(1.0)
    assert make_result_mp4(1.0, mask=True) != make_result_mp4(1.0)


@pytest.mark.parametrize(
    ("stated", "played", "believed"),
    [
        (2.0, 2.083, 2.0),  # an AVI's last frame: within 10 %, the header is believed
        (0.3, 3.0, 3.0),  # a header that understates: the frames are
        (120.0, 3.0, 120.0),  # one that overstates: the larger, so the estimate errs high
        (None, 4.5, 4.5),  # a WebM from a browser states none
    ],
)
def test_the_length_believed(stated: float | None, played: float, believed: float) -> None:
    assert believed_length_s(stated, played) == believed
