"""The fault soak: 500 jobs against the emulator injecting every fault mode at once.

Run: python -m bench.drills.soak [--jobs 500] [--deadline 1200] [--seed 7]   (from the repo root)

At once: 429s with Retry-After (a background rate plus storms), 500/502/503, connections dropped
after the request was read (acted on and charged, no answer), truncated downloads, CDN URLs
that expire, failed renders, and a `fast: true` rule whose fast capacity comes and goes. The
service runs in this process (short ticks) until every job is done, failed with a reason or
uncertain, or the deadline passes. Prints: counts per end state, jobs stuck after the deadline
(target 0), duplicate submissions per (image, driving video) in the emulator's stats (target 0),
API calls per job, outputs verified, wall time. Nothing here is asserted; the fast variant in
tests/e2e/test_drills_fast.py asserts the targets on 40 jobs. The drill's code is
``tests/support/drills/soak.py``; this is its command line.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python bench/drills/soak.py`

from tests.support.drills.soak import SoakSettings, run_soak
from tests.support.drills.workspace import drill_parser, drill_settings


def main() -> None:
    parser = drill_parser(__doc__, SoakSettings())
    parser.add_argument("--concurrency", type=int, help="max_concurrent_renders (default 20)")
    parser.add_argument("--cdn-expiry", type=float, help="seconds a result URL lives (default 3)")
    parser.add_argument("--show", type=int, default=10, help="uncertain/stuck jobs to list")
    args = parser.parse_args()
    settings = drill_settings(
        SoakSettings(), args, concurrency=args.concurrency, cdn_expiry_s=args.cdn_expiry
    )
    with tempfile.TemporaryDirectory(prefix="drill-soak-") as tmp:
        result = run_soak(Path(tmp), settings, progress=lambda s: print(s, flush=True))
    for line in result.lines():
        print(line)
    for line in result.stuck[: args.show]:
        print(f"  stuck: {line}")
    for line in result.uncertain[: args.show]:
        print(f"  uncertain: {line}")
    if len(result.uncertain) > args.show:
        print(f"  ... and {len(result.uncertain) - args.show} more uncertain")


if __name__ == "__main__":
    main()
