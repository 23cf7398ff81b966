"""The crash drill: the real service SIGKILLed again and again, restarted each time.

Run: python -m bench.drills.crash [--jobs 300] [--kills 50] [--seed 20261125]   (from the repo root)

``--jobs`` is images x 2 scenes (300 = 150 images). The emulator answers with mixed latency
(renders take ``--latency`` ± ``--jitter`` s, every API and CDN request waits
``--request-delay`` s). The service runs as a subprocess (``python -m viggle_watch run``) and is
killed with SIGKILL ``--kills`` times at moments taken in turn from: a job is ``submitting``
(the paid POST on the wire), a job is ``downloading``, a job is ``rendering``, and a random
delay after start (start-up, intake, anywhere). Then it runs until every job has ended.

Prints: jobs lost (every input x scene has exactly one job; target 0), inputs rendered twice
per the emulator's ``/_sim/stats`` render_submissions (target 0), corrupt or partial outputs
(sha256 of each output vs its sidecar vs the bytes the emulator serves, re-fetched; and no
``.part`` left; target 0), and every uncertain job with its reason and whether the emulator
had in fact taken it. The fast variant is tests/e2e/test_kill_drill.py.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python bench/drills/crash.py`

from tests.support.drills.checks import check_outputs, lost_jobs, rendered_twice, uncertain_lines
from tests.support.drills.jobs import ENDED, read_counts, read_events, read_jobs
from tests.support.drills.service import start_service
from tests.support.drills.workspace import (
    characters_rule,
    make_images,
    make_scenes,
    state_db,
    write_config,
)
from tests.support.waits import wait_until
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.store.states import State

SCENES: Final = 2
MOMENTS: Final = ("submitting", "downloading", "random", "rendering", "random")
# how long past the first sight of a state the kill may land (inside the request on the wire)
LATE_S: Final = {"submitting": 0.12, "downloading": 0.05, "rendering": 0.5}
STATE_WAIT_S: Final = 8.0


@dataclass
class Kills:
    aimed: Counter[str]
    seen: Counter[str]  # the state was seen in the store before the kill
    died_alone: list[str]


def kill_at(
    db: Path, proc: subprocess.Popen[bytes], moment: str, rng: random.Random, kills: Kills
) -> None:
    """SIGKILL ``proc`` when a job is in state ``moment`` (or after a random delay)."""
    kills.aimed[moment] += 1
    if moment == "random":
        time.sleep(rng.uniform(0.2, 3.0))
    else:
        seen = wait_until(
            lambda: read_counts(db)[moment] > 0 or proc.poll() is not None, STATE_WAIT_S, 0.005
        )
        if seen and proc.poll() is None:
            kills.seen[moment] += 1
            time.sleep(rng.uniform(0.0, LATE_S[moment]))
    if proc.poll() is not None:
        kills.died_alone.append(f"exit status {proc.returncode} before the kill ({moment})")
    proc.kill()
    proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300, help="images x 2 scenes")
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--latency", type=float, default=1.0, help="render seconds")
    parser.add_argument("--jitter", type=float, default=0.8, help="± render seconds")
    parser.add_argument("--request-delay", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=1200.0, help="for the final run")
    parser.add_argument("--keep", help="keep the workspace (logs, store) in this folder")
    args = parser.parse_args()
    started = time.monotonic()
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        run(Path(args.keep), args)
    else:
        with tempfile.TemporaryDirectory(prefix="drill-crash-") as tmp:
            run(Path(tmp), args)
    print(f"wall time: {time.monotonic() - started:.1f}s")


def run(root: Path, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    images = args.jobs // SCENES
    expected = images * SCENES
    faults = Faults(latency_jitter_s=args.jitter, request_delay_s=args.request_delay)
    emu_config = EmulatorConfig(latency_s=args.latency, seed=args.seed, faults=faults)
    logs = root / "logs"
    logs.mkdir()
    with serve(emu_config) as emu:
        scenes = make_scenes(root / "assets", SCENES, seed=args.seed % 1000)
        make_images(root / "in", images, seed=args.seed % 1000)
        rule = characters_rule("crash", root / "in", root / "out", scenes)
        config = write_config(root, emu.url, [rule], max_concurrent_renders=args.concurrency)
        db = state_db(root)
        kills = Kills(Counter(), Counter(), [])
        for i in range(args.kills):
            proc = start_service(config, logs / f"run-{i:03d}.log")
            kill_at(db, proc, MOMENTS[i % len(MOMENTS)], rng, kills)
        before_final = read_counts(db)
        final = start_service(config, logs / "final.log")
        ended = wait_until(
            lambda: (
                sum(read_counts(db).values()) >= expected
                and all(s in ENDED for s in read_counts(db))
            ),
            args.deadline,
            0.2,
        )
        final.terminate()
        final.wait(timeout=60)
        emu.emulator.set_faults(Faults())  # re-fetch the served bytes without delays
        jobs = read_jobs(db)
        events = read_events(db, [j.id for j in jobs if j.state != State.DONE])
        stats = emu.emulator.stats()
        outputs = check_outputs(jobs, [root / "out"], emu.url)
    states = Counter(str(j.state) for j in jobs)
    uncertain = uncertain_lines(jobs, events, stats)
    print(f"crash drill: {expected} jobs ({images} images x {SCENES} scenes), seed {args.seed}")
    print(
        f"SIGKILLs: {sum(kills.aimed.values())} aimed {dict(kills.aimed)}; "
        f"the state was in the store at the kill: {dict(kills.seen)}; "
        f"service died on its own: {len(kills.died_alone)}"
    )
    print(f"before the final run: {dict(before_final)}")
    print(f"end states: {dict(states)}; all ended: {ended}")
    print(f"jobs lost: {lost_jobs(jobs, expected)} (target 0)")
    print(
        f"inputs rendered twice: {rendered_twice(stats)} (target 0); "
        f"paid submissions: {len(stats['render_submissions'])} for {len(jobs)} jobs"
    )
    print(outputs.line())
    for problem in outputs.corrupt[:10]:
        print(f"  corrupt: {problem}")
    print(f"uncertain jobs created: {len(uncertain)}")
    for line in uncertain:
        print(f"  {line}")
    for job in jobs:
        if job.state == State.FAILED:
            print(f"  failed: job {job.id}: {job.error_message}")
    for line in kills.died_alone:
        print(f"  {line}")


if __name__ == "__main__":
    main()
