"""Deliverables derived from a verified download (``deliver:`` per rule; issue 16): made in a
short-lived child process (the service keeps PyAV out of its memory), written under temporary
names, checked, then renamed into the output folder — as outputs are — and listed in the
sidecar. Today: ``poster`` (``NAME.jpg`` and ``NAME.thumb.jpg``). ``mp4`` is the download
itself, always kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

from viggle_watch.apikey import child_env
from viggle_watch.errors import DownloadError
from viggle_watch.outputs.atomic import fsync_dir, part_path, sha256_of

CHILD_TIMEOUT_S: Final = 300.0


def poster_paths(video: Path) -> tuple[Path, Path]:
    """``NAME.jpg`` and ``NAME.thumb.jpg`` beside ``NAME.mp4``."""
    return video.with_suffix(".jpg"), video.with_suffix(".thumb.jpg")


def deliver_poster(video: Path, *, mode: int) -> list[dict[str, Any]]:
    """The poster and its thumbnail of the published ``video``; their sidecar entries. A child
    that fails is a ``DownloadError`` (the job is retried as for a full disk; nothing half
    made is left)."""
    poster, thumb = poster_paths(video)
    parts = [part_path(poster), part_path(thumb)]
    env = child_env()
    command = [sys.executable, "-m", "viggle_watch.media.poster", str(video), *map(str, parts)]
    try:
        done = subprocess.run(  # noqa: S603 - our own module; paths are single argv items
            command, env=env, capture_output=True, timeout=CHILD_TIMEOUT_S, check=False
        )
        said: dict[str, Any] = json.loads(done.stdout or b"{}")
        if done.returncode != 0 or "error" in said:
            raise DownloadError(
                f"the poster could not be made: {said.get('error', done.returncode)}"
            )
        entries = []
        for kind, part, final in (("poster", parts[0], poster), ("thumbnail", parts[1], thumb)):
            part.chmod(mode)
            entries.append(_entry(kind, part, final, said))
            part.replace(final)
        fsync_dir(video.parent)
        return entries
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise DownloadError(f"the poster could not be made: {exc}") from None
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


def _entry(kind: str, part: Path, final: Path, said: dict[str, Any]) -> dict[str, Any]:
    width, height = (said["width"], said["height"]) if kind == "poster" else said["thumb"]
    return {
        "kind": kind,
        "path": str(final),
        "file": final.name,
        "format": "jpeg",
        "width": width,
        "height": height,
        "size": part.stat().st_size,
        "sha256": sha256_of(part).hexdigest(),
    }
