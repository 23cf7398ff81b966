"""What the dashboard reads from the folders (issue 18): the inputs the intake refused, with
the reason it filed beside each (``failed/NAME.error.json``), and a finished job's sidecar."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

from viggle_watch.config import Config
from viggle_watch.outputs.failure import FAILED
from viggle_watch.outputs.filing import error_name
from viggle_watch.outputs.sidecar import sidecar_path
from viggle_watch.reading import open_regular, read_regular
from viggle_watch.watch.mounts import watch_roots

SHOWN: Final = 50  # the newest refused inputs shown per page
MAX_DOC: Final = 1 << 20  # an error document or sidecar larger than this is not read


def refused_inputs(config: Config, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The newest inputs the intake refused (filed in a watch folder's ``failed/`` before any
    job was made), with their reasons; an input filed there because its jobs failed is not
    one (its document names the jobs: they are listed as failed jobs)."""
    found: list[tuple[float, Path]] = []
    for root in watch_roots(config):
        try:
            with os.scandir(root.path / FAILED) as entries:
                for e in entries:
                    if e.is_file() and not e.name.endswith(".error.json"):
                        found.append((e.stat().st_mtime, Path(e.path)))
        except OSError:
            continue
    found.sort(key=lambda f: f[0], reverse=True)
    refused = []
    for at, path in found:
        document = _json(path.with_name(error_name(path.name))) or {}
        detail = document.get("detail")
        if isinstance(detail, dict) and "jobs" in detail:
            continue  # its jobs failed: a failed job, not a refused input
        refused.append(_refusal(path, at, document))
        if len(refused) == limit:
            break
    return refused


def _refusal(path: Path, at: float, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": str(path),
        "name": path.name,
        "at": at,
        "reason": str(document.get("reason") or "no reason was filed beside it"),
        "rule": document.get("rule"),
    }


def read_sidecar(video: Path | None) -> dict[str, Any] | None:
    """``NAME.json`` beside a job's video, as the pipelines read it (None: not there yet)."""
    return _json(sidecar_path(video)) if video is not None else None


def _json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(read_regular(path, MAX_DOC, follow_links=False))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def open_output(path: Path, output: Path) -> int:
    """A descriptor of a job's output file for the dashboard to send: only a regular file, not
    a link, in a folder that really is inside the rule's output folder (an editor who can
    write there cannot turn a link into a way to read other files). Raises ``OSError``."""
    folder = Path(os.path.realpath(path.parent))
    if not folder.is_relative_to(os.path.realpath(output)):
        raise FileNotFoundError(f"{path} is not in {output}")
    return open_regular(folder / path.name, follow_links=False)
