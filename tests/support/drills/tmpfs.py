"""A small filesystem that fills up for real (ENOSPC): a tmpfs, mounted where allowed."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


class MountError(RuntimeError):
    """A small filesystem cannot be mounted here (not root, no mount, a sandbox)."""


def mount_tmpfs(path: Path, size_bytes: int) -> None:
    """Mount a tmpfs of ``size_bytes`` at ``path``; raise :class:`MountError` if impossible."""
    mount = shutil.which("mount")
    if mount is None:
        raise MountError("no `mount` command")
    if os.geteuid() != 0:
        raise MountError("not running as root (tmpfs needs CAP_SYS_ADMIN)")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise MountError(f"mount -t tmpfs failed: {said}")


def unmount(path: Path) -> None:
    umount = shutil.which("umount") or "umount"
    done = subprocess.run([umount, str(path)], capture_output=True, check=False)
    if done.returncode != 0:  # something still holds it: detach it now, free it when released
        subprocess.run([umount, "-l", str(path)], capture_output=True, check=False)


def tmpfs_unavailable() -> str | None:
    """None when a tmpfs can be mounted here; else why not (tests skip with this reason)."""
    with tempfile.TemporaryDirectory(prefix="drill-probe-") as tmp:
        probe = Path(tmp) / "fs"
        try:
            mount_tmpfs(probe, 64 * 1024)
        except MountError as exc:
            return str(exc)
        unmount(probe)
    return None


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path: Path) -> int:
    """Write ``path`` until the filesystem says ENOSPC; return the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1024 * 1024, 64 * 1024, 4096, 512, 1):
            block = b"\0" * chunk
            while True:
                try:
                    n = f.write(block) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                written += n
                if n < chunk:  # a short write: the next one would fail
                    break
    return written
