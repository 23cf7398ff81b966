"""Tests for viggle_watch.watch.filters: which names are never inputs."""

from __future__ import annotations

import pytest

from viggle_watch.watch.filters import is_ignored

LITTER = [  # dotfiles, lock files, partial downloads and NAS/OS litter
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
]
ORDINARY = [  # unicode included; near misses of the litter patterns too
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
]


@pytest.mark.parametrize(
    ("name", "ignored"), [(n, True) for n in LITTER] + [(n, False) for n in ORDINARY]
)
def test_litter_names_are_ignored_and_ordinary_names_are_not(name: str, ignored: bool) -> None:
    """Dotfiles, lock files, partial downloads and NAS/OS litter are never inputs; others are."""
    assert is_ignored(name) is ignored
