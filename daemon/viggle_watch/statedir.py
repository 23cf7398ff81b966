"""The state directory and the files the service makes in it (the job store holds signed
result URLs and paths): never readable by every user, whatever the umask — the folder at most
0750 and its files at most 0640, so the service's group can still run `status`
(docs/security.md; issue 14 §21). A folder or file that exists already is left as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DIR_MODE: Final = 0o750
FILE_MODE: Final = 0o640


def make_state_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if missing; the folder itself at most ``DIR_MODE``."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=DIR_MODE, exist_ok=True)  # the umask can only take more away


def keep_private(path: Path) -> None:
    """A file just made in the state directory: at most ``FILE_MODE``."""
    mode = path.stat().st_mode & 0o7777
    if mode & ~FILE_MODE:
        path.chmod(mode & FILE_MODE)
