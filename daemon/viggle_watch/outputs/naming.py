"""Pure: output file names from a template, safe for every filesystem, and collision suffixes."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Final

DEFAULT_TEMPLATE: Final = "{character}__{scene}"
JOB_PLACEHOLDER: Final = "{job}"  # filled in with the job id when the output is written
MAX_VALUE: Final = 48  # bytes of one template value
MAX_STEM: Final = 150  # bytes of UTF-8: leaves room for "-NN.mask.mp4.part" under NAME_MAX 255
_UNSAFE: Final = re.compile(r"[\x00-\x1f/\\:*?\"<>|]+")


def safe_stem(text: str) -> str:
    """A file stem with separators, control and reserved characters replaced by ``_``.

    At most ``MAX_STEM`` bytes of UTF-8 (cut on a character boundary); never starts with ``.``
    or ``-`` (hidden, or read as an option) nor ends with ``.`` or a space (lost on SMB).
    """
    cleaned = _UNSAFE.sub("_", text)
    cleaned = cleaned.encode("utf-8")[:MAX_STEM].decode("utf-8", errors="ignore")
    return cleaned.lstrip(" .-").rstrip(" .") or "output"


def render_stem(template: str, values: Mapping[str, str]) -> str:
    """Fill ``template`` ({character}, {scene}, {rule}, {model}, {job}, ...) and make it safe."""
    known = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = known - set(values)
    if missing:
        raise ValueError(f"unknown name field(s) {sorted(missing)} in {template!r}")
    # each value is cut first, so the parts after a long one ({job} above all) survive
    filled = template.format_map(
        {
            k: safe_stem(v.encode("utf-8")[:MAX_VALUE].decode("utf-8", errors="ignore"))
            if v
            else ""
            for k, v in values.items()
        }
    )
    return safe_stem(filled)


def free_path(folder: Path, stem: str, suffix: str, exists: Callable[[Path], bool]) -> Path:
    """``folder/stem.suffix``, or ``stem-2``, ``stem-3``… when taken (the ``suffix`` policy)."""
    candidate = folder / f"{stem}{suffix}"
    n = 1
    while exists(candidate):
        n += 1
        candidate = folder / f"{stem}-{n}{suffix}"
    return candidate


# --- what `deliver:` adds beside NAME.mp4 (docs/deliverables.md) ------------------------------

ENCODED: Final = {"prores4444": ".mov", "webm_alpha": ".webm", "png_sequence": ""}
KINDS: Final = ("mp4", "poster", *ENCODED)  # what `deliver:` may name, in the order made


def deliverable_path(video: Path, kind: str) -> Path:
    """``NAME.mov`` / ``NAME.webm`` / the folder ``NAME/`` beside ``NAME.mp4``."""
    return video.with_suffix(ENCODED[kind]) if ENCODED[kind] else video.with_suffix("")


def poster_paths(video: Path) -> tuple[Path, Path]:
    """``NAME.jpg`` and ``NAME.thumb.jpg`` beside ``NAME.mp4``."""
    return video.with_suffix(".jpg"), video.with_suffix(".thumb.jpg")


def delivered_beside(video: Path, kinds: Iterable[str]) -> list[Path]:
    """Every file (or frame folder) ``kinds`` adds beside ``video`` (``NAME.mp4``, always
    kept, is not listed), in the order they are made."""
    wanted = set(kinds)
    paths: list[Path] = []
    for kind in (k for k in KINDS if k in wanted and k != "mp4"):
        paths.extend(poster_paths(video) if kind == "poster" else [deliverable_path(video, kind)])
    return paths
