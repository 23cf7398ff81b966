"""`run` under a restart policy (issue 20): with VIGGLE_WATCH_ON_ERROR=wait a broken config waits
for an edit (a minute at most), a passing trouble a few seconds, before exiting — never a
restart loop that floods the log. Fake clock; no sleeps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from viggle_watch.cli.hold import BROKEN_WAIT_S, PASSING_WAIT_S, hold, longest_wait

WAIT = {"VIGGLE_WATCH_ON_ERROR": "wait"}


class Clock:
    """A clock that moves only when the code under test sleeps; ``then`` runs at a moment."""

    def __init__(self, then: tuple[float, object] | None = None) -> None:
        self.now, self.slept, self.then = 0.0, 0.0, then

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        if self.then is not None and self.now >= self.then[0]:
            action, self.then = self.then[1], None
            assert callable(action)
            action()


def test_the_waits() -> None:
    assert longest_wait(None, 2) is None and longest_wait("exit", 2) is None
    assert longest_wait("wait", 2) == BROKEN_WAIT_S
    assert longest_wait("wait", 75) == PASSING_WAIT_S
    assert longest_wait("wait", 1) is None and longest_wait("wait", 0) is None


def test_without_the_setting_it_exits_at_once(tmp_path: Path) -> None:
    clock = Clock()
    hold(2, tmp_path / "config.yaml", environ={}, sleep=clock.sleep, clock=clock)
    assert clock.slept == 0


def test_a_broken_config_waits_for_its_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("rules: []\n", encoding="utf-8")

    def edit() -> None:
        config.write_text("rules: [fixed]\n", encoding="utf-8")
        os.utime(config, ns=(1, 1))

    clock = Clock(then=(7.0, edit))
    hold(2, config, environ=WAIT, sleep=clock.sleep, clock=clock)
    assert 7.0 <= clock.slept <= 8.0  # noticed within a poll of the edit
    said = capsys.readouterr().err
    assert f"waiting for {config} to change (or 60 s)" in said
    assert f"{config} changed: exiting to start again" in said


def test_a_broken_config_left_alone_waits_a_minute(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("rules: []\n", encoding="utf-8")
    clock = Clock()
    hold(2, config, environ=WAIT, sleep=clock.sleep, clock=clock)
    assert clock.slept == BROKEN_WAIT_S


def test_a_passing_trouble_waits_a_few_seconds(tmp_path: Path) -> None:
    clock = Clock()
    hold(75, tmp_path / "config.yaml", environ=WAIT, sleep=clock.sleep, clock=clock)
    assert clock.slept == PASSING_WAIT_S


def test_an_unedited_starter_waits_until_it_changes(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("starter\n", encoding="utf-8")

    def edit() -> None:
        config.write_text("edited!\n", encoding="utf-8")

    clock = Clock(then=(600.0, edit))  # ten minutes: longer than any limit
    hold(2, config, forever=True, environ=WAIT, sleep=clock.sleep, clock=clock)
    assert 600.0 <= clock.slept <= 601.0


def test_ctrl_c_ends_the_wait_without_a_traceback(tmp_path: Path) -> None:
    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    hold(2, tmp_path / "config.yaml", environ=WAIT, sleep=interrupted)  # returns, no raise
