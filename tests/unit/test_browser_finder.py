"""The browser harness's own decisions (tests/support/browser.py), without a browser: which
chromium to drive or why the browser tests skip, and the executor that starts no thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.browser import InlineExecutor, find_chromium


def test_the_switch_turns_the_browser_tests_off_whatever_is_named() -> None:
    assert find_chromium({"VIGGLE_TEST_BROWSER": "off", "VIGGLE_TEST_CHROMIUM": "/bin/sh"}) == (
        None,
        "VIGGLE_TEST_BROWSER=off",
    )


def test_a_named_chromium_is_used_when_it_is_an_executable(tmp_path: Path) -> None:
    runnable = tmp_path / "chromium"
    runnable.write_text("#!/bin/sh\n")
    runnable.chmod(0o755)
    assert find_chromium({"VIGGLE_TEST_CHROMIUM": str(runnable)}) == (str(runnable), "")
    runnable.chmod(0o644)
    assert find_chromium({"VIGGLE_TEST_CHROMIUM": str(runnable)}) == (
        None,
        f"VIGGLE_TEST_CHROMIUM={runnable} is not an executable",
    )
    missing = tmp_path / "nowhere"
    assert find_chromium({"VIGGLE_TEST_CHROMIUM": str(missing)})[0] is None


def test_the_inline_executor_runs_on_the_calling_thread_and_keeps_errors() -> None:
    before = set(threading.enumerate())
    runs = InlineExecutor()
    assert runs.submit(threading.current_thread).result() is threading.current_thread()
    failed = runs.submit(int, "not a number")
    with pytest.raises(ValueError, match="invalid literal"):
        failed.result()
    assert set(threading.enumerate()) == before  # and started none
