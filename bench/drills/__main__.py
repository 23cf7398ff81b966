"""Every drill, one after the other, at its default size: ``python -m bench.drills``.

Runs ``crash`` (300 jobs, 50 SIGKILLs), ``soak`` (500 jobs, every fault) and ``diskfull``
(outputs on a full tmpfs), ``corpus`` (40 bad inputs) and ``twohost`` (two hosts on PostgreSQL,
one SIGKILLed), each in its own process (``python -m bench.drills.NAME`` from the repository's
root), and prints their figures. Their code is the drill kit in ``tests/support/drills``.
Arguments after ``--`` go to every drill (e.g. ``python -m bench.drills -- --seed 5``).
Exits non-zero if a drill failed to run (the figures themselves are not judged here).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

DRILLS = ("crash", "soak", "diskfull", "corpus", "twohost")
ROOT = Path(__file__).resolve().parents[2]  # the repository: where `bench` and `tests` are


def main(argv: list[str]) -> int:
    own, extra = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    if "-h" in own or "--help" in own:
        print(__doc__)
        return 0
    worst = 0
    for name in DRILLS:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        drill = [sys.executable, "-m", f"bench.drills.{name}", *extra]
        code = subprocess.run(drill, cwd=ROOT, check=False).returncode
        print(f"== {name}: exit {code} after {time.monotonic() - started:.0f}s", flush=True)
        worst = max(worst, code if code != 2 else 0)  # 2: skipped (no mount, no PostgreSQL)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
