"""Every drill, one after the other, at its default size: ``python -m bench.drills``.

Runs ``crash.py`` (300 jobs, 50 SIGKILLs), ``soak.py`` (500 jobs, every fault) and
``diskfull.py`` (outputs on a full tmpfs), ``corpus.py`` (40 bad inputs) and ``twohost.py``
(two hosts on PostgreSQL, one SIGKILLed), each in its own process, and prints their figures.
Arguments after ``--`` go to every drill (e.g. ``python -m bench.drills -- --seed 5``).
Exits non-zero if a drill failed to run (the figures themselves are not judged here).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

DRILLS = ("crash.py", "soak.py", "diskfull.py", "corpus.py", "twohost.py")


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    here = Path(__file__).resolve().parent
    worst = 0
    for name in DRILLS:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(here / name), *extra], check=False).returncode
        print(f"== {name}: exit {code} after {time.monotonic() - started:.0f}s", flush=True)
        worst = max(worst, code if code != 2 else 0)  # 2: skipped (no mount, no PostgreSQL)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
