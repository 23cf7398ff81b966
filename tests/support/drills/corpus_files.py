"""How the files of the bad-input corpus are made: real media, cut, locked, linked, huge in
pixels, or hostile YAML (``tests.support.drills.corpus_cases`` names the cases)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.support.files import png_chunk
from viggle_watch.media.synth import make_character_png, make_video

Maker = Callable[[Path], object]  # makes the file at the path given; what it returns is unused


def png(seed: int, size: tuple[int, int] = (256, 256)) -> Maker:
    """A real character PNG."""
    return partial(make_character_png, size=size, seed=seed)


def video(
    seconds: float, fps: int = 12, size: tuple[int, int] = (128, 128), seed: int = 0
) -> Maker:
    """A real driving video."""
    return partial(make_video, seconds=seconds, fps=fps, size=size, seed=seed)


def data(content: bytes) -> Maker:
    """A file of exactly ``content``."""
    return lambda path: path.write_bytes(content)


def sparse(size: int) -> Maker:
    """A file of ``size`` bytes that takes no room on disk (a 1 GB "manifest")."""

    def make(path: Path) -> None:
        with path.open("wb") as f:
            f.truncate(size)

    return make


def symlink(target: Path) -> Maker:
    """A symbolic link to ``target``."""
    return lambda path: path.symlink_to(target)


def _then(inner: Maker, change: Maker) -> Maker:
    """``inner``'s file, then ``change`` applied to it."""

    def make(path: Path) -> None:
        inner(path)
        change(path)

    return make


def _cut_in_half(path: Path) -> None:
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])


def truncated(inner: Maker) -> Maker:
    """A real file cut in half (a copy that broke off)."""
    return _then(inner, _cut_in_half)


def locked(inner: Maker) -> Maker:
    """A file nobody may read (chmod 000); root reads it anyway."""
    return _then(inner, lambda path: path.chmod(0))


def huge_png(width: int, height: int) -> Maker:
    """A genuine 1-bit black PNG of ``width`` x ``height``: tiny on disk, huge in pixels."""

    def make(path: Path) -> None:
        header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
        squeeze = zlib.compressobj(9)
        row = bytes(1 + (width + 7) // 8)
        body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b"")
        )

    return make


def alias_bomb(levels: int = 9, indent: str = "") -> str:
    """A billion-laughs YAML block: 9 anchors, each a list of nine aliases of the one before."""
    lines = [f'{indent}a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep_nesting(depth: int = 2000) -> str:
    """``[[[[…]]]]``: 4 KB of YAML nested deeper than Python's recursion limit."""
    return "[" * depth + "]" * depth
