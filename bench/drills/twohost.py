"""The two-host drill: two services share one PostgreSQL queue and one watch folder; one of them
is SIGKILLed mid-way and never comes back.

Run: python -m bench.drills.twohost [--inputs 200] [--fast] [--pg-url URL] [--seed 8] [--keep DIR]
(from the repository's root; ``python bench/drills/twohost.py ...`` works too)
``--same-name``: the variant of issue 19 §3 instead, a second process under host-a's
``store.host`` (``tests/support/drills/twohost_name.py`` says what it does and prints).
``--pause``: the variant of issue 19 §1 instead, a host SIGSTOPped mid-download past its lease,
then SIGCONT (``tests/support/drills/twohost_pause.py`` says what it does and prints).
``--clock``: the variant of issue 19 §4 instead, host-b's clock 30 s ahead
(``tests/support/drills/twohost_clock.py`` says what it does and prints).
``--blip``: the variant of issue 19 §2 instead, the store cut for 3 s while paid requests are on
their way, several times (``tests/support/drills/twohost_blip.py`` says what it does and prints).
``--claims``: the variant of issue 19 §5 instead, a host killed while it holds input claims of
files it never queued (``tests/support/drills/twohost_claims.py`` says what it does and prints).

Two ``viggle-watch run`` processes (``python -m viggle_watch run``), each with its own state dir and
``store.host`` name, on a fresh database of one PostgreSQL server (``--pg-url``, else
``$VIGGLE_TEST_PG_URL``, else a throwaway cluster from ``tests/support/pgserver.py``), watch the
same folder by polling, against one emulator process (``viggle-watch sim``) whose renders take
``--latency`` ± ``--jitter`` s and whose every request waits ``--request-delay`` s. The
inputs (distinct character images, one 1-second scene: 1 credit per job) are moved into the
folder once both services run. The daily cap (``--cap``, default 90 % of the inputs' credits)
binds: the rest must wait in ``waiting_budget``, with both hosts together never committing more.

Mid-way (once ``--kill-after`` jobs are done) one host is SIGKILLed at a moment chosen by
reading the store: it holds >= ``--kill-rendering`` rendering jobs and a downloading one (and,
early on, a submitting one too; later the demands relax). It is never restarted: the survivor
takes its jobs over once their leases (``--lease``) run out.

Prints: every input rendered exactly once (the emulator's render_submissions per input sha256:
duplicates 0), the inputs not rendered and why (only waiting_budget or uncertain), the jobs the
survivor finished that the dead host held (take-over), uncertain jobs (only the dead host's
submitting ones), credits committed vs the cap, jobs lost (0), outputs corrupt or partial (0),
wall time. The fast variant (``--fast``: 40 inputs) runs in tests/e2e/test_two_host_drill.py;
the drill's code is ``tests/support/drills/twohost.py``, this is its command line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, Final, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python bench/drills/twohost.py`

from tests.support.drills.multihost import pg_server
from tests.support.drills.twohost import run_twohost
from tests.support.drills.twohost_blip import FAST_BLIP, BlipSettings, run_blip
from tests.support.drills.twohost_claims import FAST_CLAIMS, ClaimsSettings, run_claims
from tests.support.drills.twohost_clock import ClockSettings, run_clock
from tests.support.drills.twohost_name import FAST_NAME, NameSettings, run_same_name
from tests.support.drills.twohost_pause import FAST_PAUSE, PauseSettings, run_pause
from tests.support.drills.twohost_result import FAST, TwoHostSettings
from tests.support.drills.workspace import with_overrides
from tests.support.pgserver import PgUnavailableError, fresh_database


class Result(Protocol):
    def lines(self) -> list[str]: ...


Runner = Callable[[Path, str, Any, str], Result]
# each variant: (its settings, the fast ones, how it runs: root, database URL, settings, server)
VARIANTS: Final[dict[str, tuple[Any, Any, Runner]]] = {
    "kill": (
        TwoHostSettings(),
        FAST,
        lambda root, db, s, pg: run_twohost(
            root, db, s, pg=pg, progress=lambda line: print(line, flush=True)
        ),
    ),
    "same_name": (NameSettings(), FAST_NAME, lambda root, db, s, _pg: run_same_name(root, db, s)),
    "pause": (PauseSettings(), FAST_PAUSE, lambda root, db, s, _pg: run_pause(root, db, s)),
    "blip": (BlipSettings(), FAST_BLIP, lambda root, db, s, _pg: run_blip(root, db, s)),
    "clock": (ClockSettings(), ClockSettings(), lambda root, db, s, _pg: run_clock(root, db, s)),
    "claims": (ClaimsSettings(), FAST_CLAIMS, lambda root, db, s, _pg: run_claims(root, db, s)),
}
OVERRIDES: Final = {  # the command line's name → the settings' field
    "inputs": "inputs",
    "cap": "cap",
    "latency": "latency_s",
    "jitter": "jitter_s",
    "request_delay": "request_delay_s",
    "concurrency": "concurrency",
    "lease": "lease_s",
    "kill_after": "kill_after",
    "kill_rendering": "kill_rendering",
    "deadline": "deadline_s",
    "seed": "seed",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="the small variant (40 inputs)")
    parser.add_argument("--inputs", type=int, help="images (x 1 scene); default 200")
    parser.add_argument("--cap", type=int, help="daily_credits (default 90 %% of the inputs)")
    parser.add_argument("--latency", type=float, help="render seconds (default 3)")
    parser.add_argument("--jitter", type=float, help="± render seconds (default 1.5)")
    parser.add_argument("--request-delay", type=float, help="seconds per request (default 0.05)")
    parser.add_argument("--concurrency", type=int, help="max_concurrent_renders (default 16)")
    parser.add_argument("--lease", type=float, help="store.lease seconds (default 10)")
    parser.add_argument("--kill-after", type=int, help="jobs done before the kill (default 80)")
    parser.add_argument("--kill-rendering", type=int, help="renders the victim holds (5)")
    parser.add_argument("--deadline", type=float, help="seconds (default 900)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--pg-url", help="a PostgreSQL server (default $VIGGLE_TEST_PG_URL)")
    parser.add_argument("--keep", help="keep the workspace (logs, outputs) in this folder")
    parser.add_argument("--same-name", action="store_true", help="a second host-a (issue 19)")
    parser.add_argument("--pause", action="store_true", help="SIGSTOP, then SIGCONT (issue 19)")
    parser.add_argument("--blip", action="store_true", help="the store cut for 3 s (issue 19)")
    parser.add_argument("--clock", action="store_true", help="a clock 30 s ahead (issue 19)")
    parser.add_argument("--claims", action="store_true", help="a dead host's claims (issue 19)")
    args = parser.parse_args()
    variant = next((v for v in VARIANTS if v != "kill" and getattr(args, v)), "kill")
    plain, fast, run = VARIANTS[variant]
    base = fast if args.fast else plain
    known = {f.name for f in fields(base)}
    given = {field: getattr(args, arg) for arg, field in OVERRIDES.items() if field in known}
    settings = with_overrides(base, **given)
    started = time.monotonic()
    try:
        import psycopg  # noqa: F401  (only: is it there?)
    except ImportError as exc:
        print(f"two-host drill skipped: psycopg is not importable ({exc})")
        return 2
    try:
        with (
            pg_server(args.pg_url) as (server, where),
            fresh_database(server, "viggle_twohost") as db,
        ):
            if args.keep:
                root = Path(args.keep)
                root.mkdir(parents=True, exist_ok=True)
                result = run(root, db, settings, where)
            else:
                with tempfile.TemporaryDirectory(prefix="drill-twohost-") as tmp:
                    result = run(Path(tmp), db, settings, where)
    except PgUnavailableError as exc:
        print(f"two-host drill skipped: no PostgreSQL ({exc}); pass --pg-url or install initdb")
        return 2
    for line in result.lines():
        print(line)
    print(f"wall time (whole drill, PostgreSQL included): {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
