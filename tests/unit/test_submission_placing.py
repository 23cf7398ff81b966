"""Placing an upload under its name (web.submissions.receive): a hard link where the share has
them, else the temp file renamed whole (never a copy the intake could see half made), never
over a file; undone, each goes back to where it was. The share without links is played by
making os.link fail as such a share does (EPERM)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from viggle_watch.web.submissions import receive


def no_links(*_args: Any) -> None:
    raise OSError(errno.EPERM, "Operation not permitted")


def test_without_hard_links_the_temp_file_is_renamed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", no_links)
    temp, final = tmp_path / ".up.part", tmp_path / "hero.png"
    temp.write_bytes(b"picture")
    inode = temp.stat().st_ino
    receive._link(temp, final)
    assert not temp.exists() and final.read_bytes() == b"picture"
    assert final.stat().st_ino == inode  # the same file, not a copy
    receive._undo([(temp, final)])
    assert temp.read_bytes() == b"picture" and not final.exists()


def test_without_hard_links_a_taken_name_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", no_links)
    temp, final = tmp_path / ".up.part", tmp_path / "hero.png"
    temp.write_bytes(b"new")
    final.write_bytes(b"the user's")
    with pytest.raises(FileExistsError):
        receive._link(temp, final)
    assert final.read_bytes() == b"the user's" and temp.read_bytes() == b"new"


def test_with_hard_links_undo_removes_only_the_link(tmp_path: Path) -> None:
    temp, final = tmp_path / ".up.part", tmp_path / "hero.png"
    temp.write_bytes(b"picture")
    receive._link(temp, final)
    assert final.stat().st_ino == temp.stat().st_ino
    receive._undo([(temp, final)])
    assert temp.read_bytes() == b"picture" and not final.exists()
