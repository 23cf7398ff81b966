"""Deliverables derived from a verified download (``deliver:`` per rule; issue 16,
docs/deliverables.md): the poster and thumbnail, ProRes 4444 and VP9 with the mask as alpha,
RGBA PNG frames. Each is made in a short-lived child process (the service keeps PyAV out of its
memory) under a temporary name (naming the job and its holder) and checked; they are renamed
into the output folder together, with the render, once the job is proved still this host's
(``place_made``) — and listed in the sidecar. ``mp4`` is the download itself, always kept.

Before a file is made, the free space is checked against the size it is expected to take: too
little waits (the job stays ``downloading``, retried with backoff) as a full disk does.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from viggle_watch.errors import DownloadError
from viggle_watch.outputs.atomic import PART_SUFFIX, fsync_dir, remove_part, sha256_of
from viggle_watch.outputs.naming import KINDS, deliverable_path, poster_paths
from viggle_watch.render.children import run_child

FORMATS: Final = {"prores4444": "mov", "webm_alpha": "webm", "png_sequence": "png"}
# bytes a second of 1280x720 may take, scaled by the picture's area: ProRes 4444 with alpha
# about 6 MB/s for busy real footage (bench/deliver.py's flat synthetic render takes 2.3 MB/s:
# the estimate errs on the side of room). A PNG frame is about half its raw RGBA.
BYTES_PER_S_720P: Final = {"prores4444": 6_000_000, "webm_alpha": 1_000_000}
AREA_720P: Final = 1280 * 720
HEADROOM: Final = 1.5  # ask for this much more than expected: estimates are estimates
POSTER_BYTES: Final = 2_000_000


@dataclass(frozen=True, slots=True)
class Footage:
    """What the render is, for estimating and timing the children: from the gate's figures."""

    seconds: float
    width: int
    height: int
    frames: int


@dataclass(slots=True)
class Made:
    """The deliverables written so far, and what they said about the mask (for the history);
    ``waiting``: each one made but not placed yet, as (temporary name, final name)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    waiting: list[tuple[Path, Path]] = field(default_factory=list)


def expected_bytes(kind: str, footage: Footage) -> int:
    """About how many bytes ``kind`` takes for ``footage`` (pure)."""
    if kind == "poster":
        return POSTER_BYTES
    if kind == "png_sequence":
        return footage.frames * footage.width * footage.height * 2
    area = footage.width * footage.height / AREA_720P
    return int(BYTES_PER_S_720P.get(kind, 0) * area * max(footage.seconds, 1.0))


def _part(final: Path, tag: str) -> Path:
    return final.with_name(f"{final.name}.{tag}{PART_SUFFIX}")


def check_room(folder: Path, needed: int, what: str) -> None:
    """Wait (an ``ENOSPC`` ``OSError``: the job is retried later) while ``folder``'s file system
    has less than ``needed`` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"disk full: {what} needs about {needed / 1e6:.0f} MB, {free / 1e6:.0f} MB free",
        )


def make_parts(
    kinds: Iterable[str],
    source: Path,
    mask: Path | None,
    video: Path,
    *,
    footage: Footage,
    mode: int,
    tag: str,
) -> Made:
    """Make every deliverable of ``kinds`` from ``source`` (the verified render; ``mask`` its
    alpha) for the output ``video`` (``NAME.mp4``, maybe not published yet). Nothing is placed:
    each waits under its temporary name (``Made.waiting``) for :func:`place_made` — or
    :func:`discard_made`; the render itself is published by the caller, after them. On an
    error the ones made so far are removed."""
    made = Made()
    try:
        for kind in (k for k in KINDS if k in set(kinds) and k != "mp4"):
            need = int(expected_bytes(kind, footage) * HEADROOM)
            check_room(video.parent, need, f"the {kind} of {video.name}")
            if kind == "poster":
                made.entries += _poster(source, video, made.waiting, mode=mode, tag=tag)
            else:
                entry, note = _encoded(kind, source, mask, video, footage, mode=mode, tag=tag)
                made.entries.append(entry)
                final = deliverable_path(video, kind)
                made.waiting.append((_part(final, tag), final))
                if note:
                    made.notes.append(note)
    except BaseException:
        discard_made(made)
        raise
    return made


def place_made(made: Made, folder: Path) -> None:
    """Rename every deliverable waiting in ``made`` to its final name, then sync ``folder``."""
    for part, final in made.waiting:
        _publish(part, final)
    if made.waiting:
        fsync_dir(folder)
    made.waiting.clear()


def discard_made(made: Made) -> None:
    """Remove the deliverables still waiting in ``made`` (they will not be placed)."""
    for part, _final in made.waiting:
        remove_part(part)
    made.waiting.clear()


def _poster(
    source: Path, video: Path, waiting: list[tuple[Path, Path]], *, mode: int, tag: str
) -> list[dict[str, Any]]:
    poster, thumb = poster_paths(video)
    parts = [_part(poster, tag), _part(thumb, tag)]
    try:
        said = run_child(
            "poster", [str(source), *map(str, parts)], what="the poster could not be made"
        )
        entries = []
        for kind, part, final in (("poster", parts[0], poster), ("thumbnail", parts[1], thumb)):
            width, height = (said["width"], said["height"]) if kind == "poster" else said["thumb"]
            part.chmod(mode)
            entries.append(_entry(kind, final, part, "jpeg", width=width, height=height))
    except BaseException:
        for part in parts:
            part.unlink(missing_ok=True)
        raise
    waiting += [(parts[0], poster), (parts[1], thumb)]
    return entries


def _encoded(
    kind: str,
    source: Path,
    mask: Path | None,
    video: Path,
    footage: Footage,
    *,
    mode: int,
    tag: str,
) -> tuple[dict[str, Any], str | None]:
    final = deliverable_path(video, kind)
    part = _part(final, tag)
    remove_part(part)
    args = [kind, str(source), str(part), "--name", final.name]
    if mask is not None:
        args += ["--mask", str(mask)]
    try:
        said = run_child(
            "encode",
            args,
            what=f"the {kind} could not be made",
            timeout_s=300 + 10 * footage.seconds,
        )
        if said.get("frames") != footage.frames:
            raise DownloadError(
                f"the {kind} has {said.get('frames')} frames, the render {footage.frames}"
            )
        entry = _entry(
            kind,
            final,
            part,
            FORMATS[kind],
            width=said["width"],
            height=said["height"],
            codec=said["codec"],
            pixel_format=said["pixel_format"],
            frames=said["frames"],
            alpha=said["alpha"],
        )
        _set_mode(part, mode)
    except BaseException:
        remove_part(part)
        raise
    mask_facts = said.get("mask") or {}
    return entry, (str(mask_facts["note"]) if mask_facts.get("resampled") else None)


def _set_mode(path: Path, mode: int) -> None:
    for item in [path, *sorted(path.iterdir())] if path.is_dir() else [path]:
        item.chmod(mode | 0o111 if item.is_dir() else mode)


def _publish(part: Path, final: Path) -> None:
    """Rename ``part`` to ``final``; a folder (PNG frames) replaces the one an earlier try left."""
    if part.is_dir() and final.is_dir():
        old = final.with_name(f"{final.name}.old{PART_SUFFIX}")
        remove_part(old)
        final.replace(old)
        part.replace(final)
        remove_part(old)
        return
    part.replace(final)


def _entry(kind: str, final: Path, part: Path, fmt: str, **facts: Any) -> dict[str, Any]:
    """A sidecar entry. A folder of frames: its size is the frames' total and its sha256 that
    of the lines ``NAME_000001.png <sha256>`` for each frame in order (docs/deliverables.md)."""
    size, digest = _fingerprint(part)
    return {
        "kind": kind,
        "path": str(final),
        "file": final.name,
        "format": fmt,
        **facts,
        "size": size,
        "sha256": digest,
    }


def _fingerprint(path: Path) -> tuple[int, str]:
    if not path.is_dir():
        return path.stat().st_size, sha256_of(path).hexdigest()
    lines, total = hashlib.sha256(), 0
    for frame in sorted(path.iterdir()):
        total += frame.stat().st_size
        lines.update(f"{frame.name} {sha256_of(frame).hexdigest()}\n".encode())
    return total, lines.hexdigest()
