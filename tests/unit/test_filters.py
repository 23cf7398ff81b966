"""Tests for viggle_watch.watch.filters: which names are never inputs."""

from __future__ import annotations

import pytest

from viggle_watch.watch.filters import is_ignored


@pytest.mark.parametrize(
    "name",
    [
        ".hidden.png",
        ".DS_Store",
        "._hero.png",
        "~$report.docx",
        "hero.png.part",
        "hero.png.partial",
        "hero.png.tmp",
        "hero.png.crdownload",
        "hero.png.download",
        "hero.png.filepart",
        "HERO.PNG.PART",
        ".syncthing.hero.png.tmp",
        "Thumbs.db",
        "desktop.ini",
        "@eaDir",
        "hero.error.json",
        "READY",
        "",
    ],
)
def test_in_progress_and_litter_names_are_ignored(name: str) -> None:
    """Dotfiles, lock files, partial downloads and NAS/OS litter are never inputs."""
    assert is_ignored(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "hero.png",
        "dance.mp4",
        "my hero (1).JPG",
        "héros-été.png",
        "ダンス.mp4",
        "角色_01.webp",
        "emoji-🙂.png",
        "tmp.png",
        "part.mp4",
        "hero.json",
        "Thumbs.db.png",
        "x.syncthing.a.tmp.png",
        "a~$b.png",
    ],
)
def test_normal_names_are_not_ignored(name: str) -> None:
    """Ordinary file names, unicode included, are candidate inputs."""
    assert is_ignored(name) is False
