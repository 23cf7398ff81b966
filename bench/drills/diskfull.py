"""The disk-full drill: outputs on a small filesystem that is full when the renders come back.

Run (as root, or anywhere unprivileged user namespaces are allowed):
    python -m bench.drills.diskfull [--jobs 20] [--size-kb 2048] [--failures 2] [--seed 11]

A tmpfs of a few MB is mounted for the output folder (and unmounted at the end) and filled with
a ballast file until it says ENOSPC. The service (in this process) renders ``--jobs`` images;
every download then fails on the full disk. Held until each job has failed ``--failures`` times:
no job may be lost (all stay ``downloading``), no video published, no ``.part`` left. Then the
ballast is deleted and the downloads must resume and finish, every output verified against its
sidecar and the emulator's bytes, no ``.part`` left. Prints the figures.

Why a tmpfs: only a real filesystem gives a real ENOSPC. ``RLIMIT_FSIZE`` would give EFBIG (or
SIGXFSZ) instead, and for every file the process writes — its SQLite job store too — so it
cannot stand in. When this process may not mount (not root), it re-runs itself inside
``unshare --user --map-root-user --mount`` (a private mount namespace, where a tmpfs needs no
privilege); when that is not possible either, it says so and exits with status 2.
The drill's code is ``tests/support/drills/diskfull.py``; this is its command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python bench/drills/diskfull.py`

from tests.support.drills.diskfull import DiskSettings, run_diskfull
from tests.support.drills.tmpfs import MountError, tmpfs_unavailable
from tests.support.drills.workspace import drill_parser, drill_settings

REEXEC_MARK = "VIGGLE_DRILL_IN_NAMESPACE"


def _rerun_in_namespace(why: str) -> int:
    """Run this script again in a user + mount namespace; return its exit status."""
    unshare = shutil.which("unshare")
    if unshare is None or os.environ.get(REEXEC_MARK):
        print(f"disk-full drill skipped: cannot mount a tmpfs ({why}); no real ENOSPC possible")
        return 2
    print(f"cannot mount a tmpfs here ({why}); re-running in a private mount namespace")
    env = {**os.environ, REEXEC_MARK: "1"}
    cmd = [unshare, "--user", "--map-root-user", "--mount", sys.executable, *sys.argv]
    return subprocess.run(cmd, env=env, check=False).returncode


def main() -> int:
    parser = drill_parser(__doc__, DiskSettings(), deadline="seconds per phase")
    parser.add_argument("--size-kb", type=int, default=2048, help="size of the tmpfs")
    parser.add_argument("--failures", type=int, default=2, help="ENOSPC failures per job")
    args = parser.parse_args()
    why = tmpfs_unavailable()
    if why is not None:
        return _rerun_in_namespace(why)
    settings = drill_settings(
        DiskSettings(), args, size_bytes=args.size_kb * 1024, failures_each=args.failures
    )
    with tempfile.TemporaryDirectory(prefix="drill-disk-") as tmp:
        try:
            result = run_diskfull(Path(tmp), settings)
        except MountError as exc:
            print(f"disk-full drill skipped: {exc}")
            return 2
    for line in result.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
