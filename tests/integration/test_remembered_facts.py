"""What was measured of a file is remembered by its identity (issue 13 §9): a second process —
`plan` after the service, or a second `plan` — reuses a video's probe and a file's hash
instead of decoding again, and never for other bytes than were measured."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import viggle_watch.intake.facts as facts_module
import viggle_watch.intake.spec as spec_module
from viggle_watch.intake.checks import Problem, VideoFacts
from viggle_watch.intake.facts import Facts
from viggle_watch.intake.spec import SpecBuilder
from viggle_watch.media.synth import make_character_png, make_video
from viggle_watch.store.remembered import FILE_NAME, Remembered


def forbid_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("measured again although the file was remembered")

    monkeypatch.setattr(facts_module, "check_video", refuse)
    monkeypatch.setattr(facts_module, "check_image", refuse)
    monkeypatch.setattr(spec_module, "sha256_file", refuse)


def test_a_second_process_reuses_the_probe_and_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    video = make_video(tmp_path / "drive.mp4", seconds=1.0)
    image = make_character_png(tmp_path / "c.png")
    first = Remembered.open(state)
    measured = Facts(first).video(video, "driving")
    digest = SpecBuilder(first).ref("character", image).sha256
    assert Facts(first).verdict(image, "character") is None
    first.close()
    assert isinstance(measured, VideoFacts)

    forbid_measuring(monkeypatch)  # from here on, any decode or hash fails the test
    second = Remembered.open(state)
    assert Facts(second).video(video, "driving") == measured
    assert SpecBuilder(second).ref("character", image).sha256 == digest
    assert Facts(second).verdict(image, "character") is None
    second.close()


def test_other_bytes_under_the_same_name_size_and_mtime_are_measured_again(
    tmp_path: Path,
) -> None:
    """A same-size rewrite with its mtime put back still changes the ctime: measured anew."""
    state = tmp_path / "state"
    state.mkdir()
    video = make_video(tmp_path / "drive.mp4", seconds=1.0)
    before = video.stat()
    remembered = Remembered.open(state)
    assert isinstance(Facts(remembered).video(video, "driving"), VideoFacts)
    video.write_bytes(b"\0" * before.st_size)  # same size, no longer a video
    os.utime(video, ns=(before.st_atime_ns, before.st_mtime_ns))
    verdict = Facts(remembered).video(video, "driving")
    assert isinstance(verdict, Problem)
    assert verdict.code == "not_a_video"


def test_a_cache_of_another_version_is_emptied(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    image = make_character_png(tmp_path / "c.png")
    remembered = Remembered.open(state)
    SpecBuilder(remembered).ref("character", image)
    remembered.close()
    with sqlite3.connect(state / FILE_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM facts").fetchone()[0] == 1
        conn.execute("UPDATE meta SET version = '0.0.1'")
    Remembered.open(state).close()
    with sqlite3.connect(state / FILE_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM facts").fetchone()[0] == 0


def test_no_state_directory_or_a_damaged_cache_measures_as_if_empty(tmp_path: Path) -> None:
    image = make_character_png(tmp_path / "c.png")
    absent = Remembered.open(tmp_path / "no-such-state")
    assert not (tmp_path / "no-such-state").exists()  # a reader never makes the state dir
    assert SpecBuilder(absent).ref("character", image).sha256
    state = tmp_path / "state"
    state.mkdir()
    (state / FILE_NAME).write_bytes(b"this is not a database" * 100)
    damaged = Remembered.open(state)
    assert SpecBuilder(damaged).ref("character", image).sha256
    assert (state / FILE_NAME).stat().st_mode & 0o777 != 0  # left as it was, not deleted
