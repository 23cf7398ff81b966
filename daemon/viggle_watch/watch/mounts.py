"""Pure: which filesystem a watch root lives on, and whether events can be trusted there.

inotify only sees writes that go through this host's kernel. On NFS, SMB and FUSE shares the
files dropped by other machines never raise an event, so ``auto`` polls there. The decisions
take the text of ``/proc/self/mounts`` as a parameter; ``read_mounts`` and ``observer_for`` at
the bottom are the thin I/O edge that reads the real table.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Literal

from viggle_watch.config import Config, JobsRule

ObserverKind = Literal["native", "polling"]
ObserverSetting = Literal["auto", "native", "polling"]

MOUNTS_FILE: Final = Path("/proc/self/mounts")
DEFAULT_POLL_INTERVAL_S: Final = 5.0

# Filesystems whose content other hosts change behind the kernel's back. Besides these, every
# ``fuse.<subtype>`` mount (fuse.sshfs, fuse.rclone, fuse.s3fs ...) counts as network, and so does
# a bare ``fuse`` (no subtype given, e.g. davfs2): a few seconds of polling cost little, a missed
# file costs a job. ``fuseblk`` is *not* here: it is a FUSE driver over a local block device
# (ntfs-3g, exfat-fuse), only this host writes to it, and inotify sees those writes.
NETWORK_FS: Final = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "ceph",
        "glusterfs",
        "afs",
        "sshfs",
        "fuse",
        "davfs",
        # cluster filesystems: shared by several hosts, each writing
        "lustre",
        "gpfs",
        "beegfs",
        "ocfs2",
        "gfs2",
    }
)

# The kernel writes space, tab, newline and backslash in mount fields as ``\ooo`` octal.
_OCTAL_ESCAPE: Final = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class Mount:
    point: Path
    fstype: str
    source: str


@dataclass(frozen=True, slots=True)
class ObserverChoice:
    """Which observer a root gets and why, in words for ``status`` and ``check-config``."""

    kind: ObserverKind
    reason: str
    warning: bool = False  # the choice will miss files (native on a network share)


def _unescape(field: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Mount]:
    """Mounts in table order (``source point fstype options dump pass``); bad lines skipped."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        source, point, fstype = fields[:3]
        mounts.append(Mount(Path(_unescape(point)), fstype, _unescape(source)))
    return mounts


def is_network_fs(fstype: str) -> bool:
    """True for NFS, SMB, FUSE (but not ``fuseblk``) and cluster filesystems."""
    return fstype in NETWORK_FS or fstype.startswith("fuse.")


def mount_for(path: Path, mounts: list[Mount]) -> Mount | None:
    """The mount holding ``path``: the longest mount point that is a prefix of it.

    ``path`` should already be resolved (symlinks are I/O; ``observer_for`` resolves); it is
    only normalised here. When a point is mounted over twice, the later (visible) one wins.
    """
    target = Path(os.path.normpath(path))
    best: Mount | None = None
    for mount in mounts:
        if not target.is_relative_to(mount.point):
            continue
        if best is None or len(mount.point.parts) >= len(best.point.parts):
            best = mount
    return best


def choose_observer(
    path: Path,
    setting: ObserverSetting,
    mounts: list[Mount],
    *,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
) -> ObserverChoice:
    """Native or polling for the root ``path``: explicit settings are obeyed, ``auto`` decides."""
    mount = mount_for(path, mounts)
    network = mount is not None and is_network_fs(mount.fstype)
    polling = f"polling every {poll_interval_s:g} s"
    if mount is None:
        where = "filesystem not in the mount table"
    elif network:
        where = f"{mount.point} is {mount.fstype}"
    else:
        where = f"local {mount.fstype}"
    if setting == "polling":
        return ObserverChoice("polling", f"{polling}: set in config ({where})")
    if setting == "native":
        if network:
            why = f"native: set in config, but {where}: files written by other hosts are missed"
            return ObserverChoice("native", f"{why} until the next rescan", warning=True)
        return ObserverChoice("native", f"native: set in config ({where})")
    if network:
        why = "inotify does not see other hosts' writes"
        return ObserverChoice("polling", f"{where}: {why}, {polling}")
    if mount is None:
        return ObserverChoice("native", f"{where}: assuming local, native")
    return ObserverChoice("native", where)


def read_mounts(path: Path = MOUNTS_FILE) -> str:
    """The mount table's text, or "" where there is none (not Linux, no /proc)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        return ""


def observer_for(
    path: Path, setting: ObserverSetting, *, poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
) -> ObserverChoice:
    """``choose_observer`` for a real root: resolves it and reads this host's mount table."""
    mounts = parse_mounts(read_mounts())
    return choose_observer(path.resolve(), setting, mounts, poll_interval_s=poll_interval_s)


@dataclass(frozen=True, slots=True)
class WatchRoot:
    """One folder to watch and how (``kind`` and ``reason`` from ``mounts.choose_observer``)."""

    path: Path
    kind: ObserverKind
    recursive: bool = False
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    reason: str = ""  # for logs, ``status`` and ``check-config``; not used to watch


def watch_roots(config: Config, mounts: str | None = None) -> list[WatchRoot]:
    """Each watch folder with the observer it gets (native, or polling on network shares)."""
    table = parse_mounts(read_mounts() if mounts is None else mounts)
    roots: dict[Path, WatchRoot] = {}
    for rule in config.rules:
        observer = rule.observer
        if config.store.url and observer == "auto":  # inotify cannot see other hosts' writes
            observer = "polling"
        choice = choose_observer(
            rule.watch.resolve(), observer, table, poll_interval_s=config.polling_interval
        )
        if observer != rule.observer:
            choice = replace(
                choice, reason="the store is shared by several hosts; inotify sees only this one"
            )
        recursive = rule.recursive or isinstance(rule, JobsRule)
        roots[rule.watch] = WatchRoot(
            rule.watch,
            choice.kind,
            recursive=recursive,
            poll_interval_s=config.polling_interval,
            reason=choice.reason,
        )
    return [roots[k] for k in sorted(roots)]
