"""Tests for viggle_watch.intake.checks, the videos: each refusal a clear problem, and the reader
in a child process (``read_video_isolated``); every file is made in ``tmp_path``. The images and
the error document: ``test_validation.py``."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from tests.support.files import mp4_detail, sparse, without_error, write_wav, write_webm
from viggle_watch.intake import checks as validation
from viggle_watch.intake.checks import (
    READ_TIMEOUT_S,
    VIDEO_CONTAINERS,
    VIDEO_MAX_BYTES,
    Problem,
    VideoFacts,
    check_video,
    read_video_isolated,
)
from viggle_watch.media.probe import VideoReading, read_video
from viggle_watch.media.synth import make_character_png, make_driving_mp4, make_video


def test_video_over_five_minutes_is_too_long(tmp_path: Path) -> None:
    """A 301 s video (1 fps, 64x64: cheap to make) is over the 5 minute limit."""
    path = make_video(tmp_path / "dance.mp4", seconds=301, fps=1, size=(64, 64))
    assert check_video(path, role="scene") == Problem(
        "video_too_long",
        "The scene video is 5 min 1 s long; Viggle accepts at most 5 min.",
        mp4_detail(path, 301.0),
    )


@pytest.mark.parametrize(
    ("seconds", "fps", "size", "code", "reason"),
    [
        pytest.param(
            300.5,  # would round to "5 min" beside a 5 min limit: the reason gives seconds
            2,
            (64, 64),
            "video_too_long",
            "The driving video is 300.50 s long; Viggle accepts at most 5 min.",
            id="just-over-five-minutes",
        ),
        pytest.param(
            1.0,
            4,
            (32, 32),
            "video_too_small",
            "The driving video is 32x32 pixels; Viggle needs at least 64x64.",
            id="under-64x64",
        ),
        pytest.param(
            1.0,
            2,
            (4098, 64),
            "video_resolution",
            "The driving video is 4098x64 pixels; Viggle accepts at most 4096x4096.",
            id="wider-than-4096",
        ),
    ],
)
def test_video_outside_the_limits_is_refused_saying_by_how_much(
    tmp_path: Path, seconds: float, fps: int, size: tuple[int, int], code: str, reason: str
) -> None:
    """Just over 5 min (said in seconds), under 64x64 or over 4096 wide: refused with figures."""
    path = make_video(tmp_path / "dance.mp4", seconds=seconds, fps=fps, size=size)
    assert without_error(check_video(path))[:2] == (code, reason)


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
