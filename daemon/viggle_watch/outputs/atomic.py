"""Temp file in the destination folder → write → fchmod → fsync → replace → fsync the folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final, Protocol, TypeVar

from viggle_watch.errors import DownloadError

T = TypeVar("T")
W = TypeVar("W", bound="Written")
PART_SUFFIX: Final = ".part"


def part_path(dest: Path, tag: str = "") -> Path:
    """Where ``dest`` is written before it is complete: ``name.mp4.part``; a download's is
    ``name.mp4.TAG.part``, TAG naming its job and the host that holds it (``download_tag``), so
    no two writers ever share one and a host resumes only its own."""
    return dest.with_name(f"{dest.name}.{tag}{PART_SUFFIX}" if tag else dest.name + PART_SUFFIX)


def download_tag(job_id: int, host: str) -> str:
    """``12-render-01``: the job and its holder, in letters a file name can always take."""
    return f"{job_id}-{host_tag(host)}"


def host_tag(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", host)[:40]


class Written(Protocol):
    """What a download says it wrote."""

    @property
    def size(self) -> int: ...

    @property
    def sha256(self) -> str: ...


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fill_and_rename(dest: Path, how: str, fill: Callable[[IO[bytes]], T], mode: int) -> T:
    """Run ``fill`` on the temp file (opened with ``how``), make it durable with ``mode``, then
    rename it to ``dest``; the folder is not synced yet."""
    tmp = part_path(dest)
    with open(tmp, how) as f:
        result = fill(f)
        f.flush()
        os.fchmod(f.fileno(), mode)
        os.fsync(f.fileno())
    tmp.replace(dest)
    return result


def _as_received(got: Written, tmp: Path) -> None:
    """The bytes on disk are the bytes received and hashed (nothing else wrote into the file
    meanwhile): else the file is not published."""
    on_disk = tmp.stat().st_size
    if on_disk != got.size or sha256_of(tmp).hexdigest() != got.sha256:
        raise DownloadError(
            f"the file on disk ({on_disk} bytes) is not what was downloaded ({got.size} bytes):"
            " another writer? starting over",
            restart=True,
        )


def _discard(tmp: Path) -> None:
    """Remove a temp file that will not be published, if it can be."""
    with contextlib.suppress(OSError):
        tmp.unlink()


def remove_part(path: Path) -> None:
    """Remove a temp file — or a temp folder (PNG frames being written) — if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_atomic(dest: Path, write: Callable[[IO[bytes]], T], *, mode: int = 0o644) -> T:
    """Run ``write`` on a temp file and publish it at ``dest`` only when complete and synced.

    On any failure the temp file is removed and ``dest`` is untouched. A failed ``fsync`` is
    not retried (the page cache may have dropped the data): the caller writes again.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = _fill_and_rename(dest, "wb", write, mode)
    except BaseException:
        _discard(part_path(dest))
        raise
    fsync_dir(dest.parent)
    return result


def write_bytes_atomic(dest: Path, data: bytes, *, mode: int = 0o644) -> None:
    write_atomic(dest, lambda f: f.write(data), mode=mode)


def sha256_of(path: Path) -> Any:
    """A running sha256 already fed with the bytes of ``path`` (to resume a download)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest


Fetch = Callable[[IO[bytes], int, Any], T]


def fill_resumable(
    dest: Path,
    fetch: Fetch[W],
    *,
    mode: int = 0o644,
    tag: str = "",
) -> W:
    """Fill ``dest``'s part file (resuming what a broken earlier try left) and make it durable
    — checked to hold the bytes received — without publishing it: the caller decides where it
    goes (``publish_part``, once the acceptance gate has passed it).

    ``fetch(file, offset, digest)`` appends to ``file`` after ``offset`` bytes already in it.
    A broken transfer keeps the partial file for the next try; a foreign file, or
    any other failure (disk full, a failed fsync), removes it.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(dest, tag)
    offset = tmp.stat().st_size if tmp.exists() else 0
    digest = sha256_of(tmp) if offset else hashlib.sha256()
    try:
        with open(tmp, "ab") as f:
            got = fetch(f, offset, digest)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        _as_received(got, tmp)
    except DownloadError as exc:
        if exc.restart:
            tmp.unlink(missing_ok=True)
        raise
    except BaseException:
        _discard(tmp)
        raise
    return got


def publish_part(part: Path, dest: Path, got: Written) -> None:
    """:func:`check_part`, then :func:`place_part`."""
    check_part(part, got)
    place_part(part, dest, got)


def check_part(part: Path, got: Written) -> None:
    """Check that a complete, durable part file still holds ``got`` — nothing wrote into it
    since it was filled — else drop it (the download starts over: a ``DownloadError``)."""
    try:
        _as_received(got, part)
    except DownloadError:
        part.unlink(missing_ok=True)  # foreign bytes: the download starts over
        raise


def place_part(part: Path, dest: Path, got: Written) -> None:
    """Rename a checked part file to ``dest`` and sync the folder; then check that the bytes
    ``dest`` holds on disk are still ``got``, size and sha256 (a writer that kept the file
    open would have changed them). A mismatch removes ``dest``: a ``DownloadError``."""
    part.replace(dest)
    fsync_dir(dest.parent)
    try:
        _as_received(got, dest)
    except DownloadError:
        dest.unlink(missing_ok=True)
        raise DownloadError(
            "the published file changed under us: downloading it again", restart=True
        ) from None
