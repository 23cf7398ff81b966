"""Pure: the names uploaded files take in their rule's watch folder. The client's name is
reduced to its last part (never a path), refused when the watcher would ignore it or the rule
cannot use it, and given a collision suffix — the same one for every file of a submission, so
that a pair keeps its common stem. Nothing is ever written over."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from viggle_watch.config import JobsRule, Rule
from viggle_watch.config.kinds import TAKES
from viggle_watch.rules.pairing import (
    IMAGE_SUFFIXES,
    MANIFEST_SUFFIX,
    VIDEO_SUFFIXES,
    is_image,
    is_manifest,
    is_video,
)
from viggle_watch.watch.filters import is_ignored

MAX_NAME_BYTES: Final = 200  # room left under 255 for "-NN", ".error.json" and a temp name
MAX_FILES: Final = 100  # files in one submission
TEMP_PREFIX: Final = ".viggle-upload-"  # hidden and ``.part``: the watcher never takes it
TEMP_SUFFIX: Final = ".part"
STALE_TEMP_S: Final = 86400.0  # a temp file this old was left by a stopped service
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_KINDS: Final = {
    "images": (is_image, IMAGE_SUFFIXES),
    "videos": (is_video, VIDEO_SUFFIXES),
    "job manifests": (is_manifest, frozenset({MANIFEST_SUFFIX})),
}


def base_name(sent: str) -> str:
    """The last part of the name a client sent (a browser or a script may send a path)."""
    return re.split(r"[/\\]", sent)[-1]


def takes(rule: Rule) -> str:
    """What ``rule`` takes from its watch folder, in words with the file name endings."""
    return " or ".join(
        f"{kind} ({' '.join(sorted(_KINDS[kind][1]))})" for kind in sorted(TAKES[rule.kind])
    )


def refusal(sent: str, rule: Rule) -> str | None:
    """Why a file sent as ``sent`` cannot be dropped in ``rule``'s watch folder, or None."""
    name = base_name(sent)
    if name in ("", ".", ".."):
        return f"{sent!r} names no file: send a file name such as hero.png"
    if _CONTROL.search(name):
        return f"{name!r}: a file name may not hold control characters"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"{name[:40]}…: a file name may be at most {MAX_NAME_BYTES} bytes long"
    if is_ignored(name):
        return (
            f"{name}: the watcher ignores this name (a dot-file, a partial download such as"
            " .part or .tmp, or OS litter): rename the file"
        )
    if not any(_KINDS[kind][0](Path(name)) for kind in TAKES[rule.kind]):
        return f"{name}: rule {rule.name} takes {takes(rule)}"
    return None


def group_refusal(names: Sequence[str], rule: Rule) -> str | None:
    """Why these base names cannot be one submission to ``rule``, or None."""
    if not names:
        return "no file: send one or more parts named file (after the rule field)"
    if len(names) > MAX_FILES:
        return f"{len(names)} files: a submission takes at most {MAX_FILES}"
    folded = [n.casefold() for n in names]  # one file on a share that ignores case
    twice = sorted({n for n in names if folded.count(n.casefold()) > 1})
    if twice:
        return f"two files are named {twice[0]}: each file of a submission needs its own name"
    if isinstance(rule, JobsRule) and not any(is_manifest(Path(n)) for n in names):
        return (
            f"rule {rule.name} works from job manifests (NAME{MANIFEST_SUFFIX}): send one with"
            " the files it names"
        )
    return None


def may_rename(rule: Rule) -> bool:
    """A taken name gets a suffix, except in a jobs rule: a manifest names its files, so a
    renamed image would leave it pointing at the file already there."""
    return not isinstance(rule, JobsRule)


def numbered(names: Sequence[str], n: int) -> list[str]:
    """The names as sent (``n`` = 1), or each with ``-n`` before its ending (``hero-2.png``,
    ``hero-2.mp4``): ``outputs.naming.free_path``'s suffix, one for the whole submission."""
    if n == 1:
        return list(names)
    return [f"{stem}-{n}{ending}" for stem, ending in (_split(name) for name in names)]


def placing_order(names: Sequence[str]) -> list[int]:
    """The order files are put in place: manifests last, once the files they name are there."""
    return sorted(range(len(names)), key=lambda i: is_manifest(Path(names[i])))


def temp_name(token: str) -> str:
    """Where a file is written until it is complete (the watcher ignores the name)."""
    return f"{TEMP_PREFIX}{token}{TEMP_SUFFIX}"


def is_stale_temp(name: str, age_s: float) -> bool:
    """A temp file of ours that no upload still writes (its service stopped mid-upload)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX) and age_s > STALE_TEMP_S


def _split(name: str) -> tuple[str, str]:
    ending = MANIFEST_SUFFIX if name.lower().endswith(MANIFEST_SUFFIX) else Path(name).suffix
    return name[: len(name) - len(ending)], ending
