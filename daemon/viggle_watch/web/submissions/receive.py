"""Receiving a submission's files: the multipart body parsed as it streams in (python-multipart),
each file part written straight into its rule's watch folder under a temp name the watcher
ignores and hashed on the way, then every file put in place at once under its final name —
never over another file — so that each takes the path a dropped file takes.

Starlette's own form parsing is not used: it spools every file to a temp folder first, with no
cap, before the route sees it. Here the route counts the bytes (``web.max_upload``) as they
come, and nothing lands outside a configured watch folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from viggle_watch.config import Rule
from viggle_watch.outputs.atomic import fsync_dir
from viggle_watch.store.submissions import SubmittedFile
from viggle_watch.web.submissions.naming import (
    MAX_FILES,
    base_name,
    is_stale_temp,
    may_rename,
    numbered,
    placing_order,
    refusal,
    temp_name,
)

FIELD_LIMIT: Final = 1024  # bytes of a text field (the rule's name)
MAX_TRIES: Final = 1000  # collision suffixes tried (-2 … -1000) before giving up
FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
Choose = Callable[[str], Rule]  # a rule's name → the rule (or raises Refusal)


class Refusal(Exception):  # noqa: N818 — an answer, not a failure of ours
    """A submission refused, with the HTTP status and the words to answer."""

    def __init__(self, status: int, words: str) -> None:
        super().__init__(words)
        self.status, self.words = status, words


def disk_refusal(exc: OSError, folder: Path) -> Refusal:
    if exc.errno in FULL:
        return Refusal(507, f"the watch folder {folder} is full: {exc.strerror}")
    return Refusal(503, f"cannot write in the watch folder {folder}: {exc.strerror}")


@dataclass(slots=True)
class Upload:
    """One file part, being written to ``temp``."""

    sent_as: str
    name: str
    temp: Path
    file: BinaryIO
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0


class Reader:
    """The parser's callbacks: the rule field into memory, each file into its temp file.
    ``feed`` runs on a worker thread (disk writes never stall the event loop)."""

    def __init__(self, boundary: bytes, choose: Choose) -> None:
        self.rule: Rule | None = None
        self.uploads: list[Upload] = []
        self._choose = choose
        self._headers: dict[bytes, bytes] = {}
        self._header = (bytearray(), bytearray())
        self._field: tuple[str, bytearray] | None = None
        self._writing: Upload | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._headers.clear,
                "on_header_field": lambda d, s, e: self._header[0].extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._header[1].extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._part_start,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finish(self) -> None:
        self._parser.finalize()
        if self._writing is not None or self._field is not None:
            raise Refusal(400, "the multipart body ends inside a part: the upload was cut off")

    def discard(self) -> None:
        """Remove every temp file (a refused or replayed submission leaves nothing)."""
        for upload in self.uploads:
            with contextlib.suppress(OSError):
                upload.file.close()
            upload.temp.unlink(missing_ok=True)

    def _header_end(self) -> None:
        name, value = self._header
        self._headers[bytes(name).lower()] = bytes(value)
        name.clear()
        value.clear()

    def _part_start(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            if name != "rule":
                raise Refusal(422, f"unknown form field {name!r}: send rule, then file parts")
            self._field = (name, bytearray())
        else:
            self._writing = self._open(name, _decoded(filename))

    def _open(self, part: str, sent_as: str) -> Upload:
        if part != "file":
            raise Refusal(422, f"files go in parts named file (not {part!r})")
        if self.rule is None:
            raise Refusal(422, "the rule field must come before the files")
        why = refusal(sent_as, self.rule)
        if why is not None:
            raise Refusal(422, why)
        if len(self.uploads) >= MAX_FILES:
            raise Refusal(422, f"a submission takes at most {MAX_FILES} files")
        folder = self.rule.watch
        temp = folder / temp_name(secrets.token_hex(8))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(temp, flags, 0o644)
        except OSError as exc:
            raise disk_refusal(exc, folder) from None
        upload = Upload(sent_as, base_name(sent_as), temp, os.fdopen(fd, "wb"))
        self.uploads.append(upload)
        return upload

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._writing is not None:
            chunk = data[start:end]
            try:
                self._writing.file.write(chunk)
            except OSError as exc:
                raise disk_refusal(exc, self._writing.temp.parent) from None
            self._writing.digest.update(chunk)
            self._writing.size += len(chunk)
        elif self._field is not None:
            self._field[1].extend(data[start:end])
            if len(self._field[1]) > FIELD_LIMIT:
                raise Refusal(422, f"the {self._field[0]} field is over {FIELD_LIMIT} bytes")

    def _part_end(self) -> None:
        if self._writing is not None:
            upload, self._writing = self._writing, None
            try:
                upload.file.flush()
                os.fsync(upload.file.fileno())  # durable before it takes its final name
                upload.file.close()
            except OSError as exc:
                raise disk_refusal(exc, upload.temp.parent) from None
        elif self._field is not None:
            value = bytes(self._field[1]).decode("utf-8", "replace").strip()
            self._field = None
            if self.rule is not None:
                raise Refusal(422, "one rule field per submission")
            self.rule = self._choose(value)


def _decoded(filename: bytes) -> str:
    try:
        return filename.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(422, "a file name must be UTF-8") from None


def place(uploads: list[Upload], rule: Rule) -> list[SubmittedFile]:
    """Every upload under its final name in ``rule``'s watch folder, all with the same
    collision suffix (``hero-2.png`` and ``hero-2.mp4``); nothing is ever written over."""
    folder = rule.watch
    names = [u.name for u in uploads]
    for n in range(1, MAX_TRIES + 1):
        finals = [folder / name for name in numbered(names, n)]
        taken = _link_all(uploads, finals, placing_order(names))
        if taken is None:
            break
        if not may_rename(rule):
            raise Refusal(
                409,
                f"{taken.name} is in the watch folder of rule {rule.name} already (a manifest"
                " names its files, so they are not renamed): rename it, or wait until it is"
                " filed away",
            )
    else:
        raise Refusal(409, f"{names[0]} and {MAX_TRIES} numbered names are all taken")
    for upload in uploads:
        upload.temp.unlink(missing_ok=True)
    fsync_dir(folder)
    placed = []
    for upload, final in zip(uploads, finals, strict=True):
        st = final.lstat()
        placed.append(
            SubmittedFile(
                name=final.name,
                sent_as=upload.sent_as,
                path=str(final),
                size=upload.size,
                sha256=upload.digest.hexdigest(),
                device=st.st_dev,
                inode=st.st_ino,
            )
        )
    return placed


def _link_all(uploads: list[Upload], finals: list[Path], order: list[int]) -> Path | None:
    """Link each temp file to its final name (a link never replaces a file); on the first
    name taken, undo the links made and return that name."""
    done: list[tuple[Path, Path]] = []
    try:
        for i in order:
            assert finals[i].parent == uploads[i].temp.parent  # only inside the watch folder
            try:
                _link(uploads[i].temp, finals[i])
            except FileExistsError:
                _undo(done)
                return finals[i]
            done.append((uploads[i].temp, finals[i]))
    except BaseException:
        _undo(done)  # all of a submission or none of it
        raise
    return None


def _undo(made: list[tuple[Path, Path]]) -> None:
    """Take back what ``_link`` placed: a link goes; a file moved to its name goes back."""
    for temp, final in made:
        if temp.exists():
            final.unlink(missing_ok=True)  # ours: linked a moment ago
        else:
            final.rename(temp)


def _link(temp: Path, final: Path) -> None:
    try:
        os.link(temp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        _move(temp, final)


def _move(temp: Path, final: Path) -> None:
    """A share without hard links: the temp file itself renamed to its name, whole at once (a
    copy could be seen half made by the intake). A rename would replace a file, so the name is
    looked at first; only a file made in the instant between could be replaced."""
    if os.path.lexists(final):
        raise FileExistsError(errno.EEXIST, "name taken", str(final))
    temp.rename(final)


def sweep(folder: Path) -> None:
    """Remove temp files of ours that a stopped service left (never anything else)."""
    now = time.time()  # file times are the wall clock's
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and is_stale_temp(
                entry.name, now - entry.stat(follow_symlinks=False).st_mtime
            ):
                Path(entry.path).unlink(missing_ok=True)
