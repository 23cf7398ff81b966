"""Under journald (``$JOURNAL_STREAM`` names the stream's device and inode) every log line
starts with its syslog priority, so `journalctl -p warning` works; elsewhere lines are bare."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import structlog

from tests.support.logs import logs_into


def first_chars(path: Path, journal: str | None, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with path.open("w", encoding="utf-8") as stream:
        st = os.fstat(stream.fileno())
        value = f"{st.st_dev}:{st.st_ino}" if journal == "this" else journal
        if value is None:
            monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        else:
            monkeypatch.setenv("JOURNAL_STREAM", value)
        with logs_into(stream):
            log = structlog.get_logger()
            log.info("job_queued")
            log.warning("retry_scheduled")
            log.error("job_failed")
    return [line[:4] for line in path.read_text(encoding="utf-8").splitlines()]


def test_lines_to_the_journal_carry_their_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """info <6>, warning <4>, error <3>, each before the JSON line."""
    assert first_chars(tmp_path / "log", "this", monkeypatch) == ["<6>{", "<4>{", "<3>{"]


@pytest.mark.parametrize("journal", [None, "1:2"])
def test_lines_elsewhere_are_plain_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: str | None
) -> None:
    """No journal, or the journal is some other stream (a pipe in between): no prefix."""
    assert first_chars(tmp_path / "log", journal, monkeypatch) == ['{"ev'] * 3
