"""`viggle-watch status` on a store of many jobs, and `viggle-watch --version` (issue 13 §15).

Run: python bench/status.py [--jobs 200000] [--runs 7]

Makes a real job store (the service's own schema, one job enqueued through ``JobStore``), then
copies that job's row in SQL to ``--jobs`` jobs spread over the states a busy year leaves
(most `done`, some `failed`, a few `uncertain`, queued and rendering), each with four events of
history, and a config whose two rules watch folders of 100 files. Then times the real command
(`python -m viggle_watch`, what `viggle-watch` runs), ``--runs`` times each, and prints the
median and the best, after the floors it stands on: Python, the libraries (pydantic, PyYAML,
rich) and the config's models, imported the same way. Targets: `--version` ≤ 0.15 s, `status`
≤ 0.25 s at 200,000 jobs. Prints figures measured in this run only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/status.py`

from viggle_watch.media.synth import make_character_png
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.spec import InputRef, JobSpec
from viggle_watch.store.sqlite import Database

TARGETS = {"--version": 0.15, "status": 0.25}
# What `status` stands on before it reads a row, timed the same way: Python itself; the
# libraries the project decided on (pydantic v2 for the config, PyYAML, rich for the text);
# and the config's own models, which pydantic builds (validators included) when imported.
FLOORS = (
    ("python -c pass", "pass", "Python itself"),
    (
        "pydantic, yaml, rich",
        "import pydantic.main, yaml, rich.console, rich.table",
        "the libraries alone",
    ),
    (
        "+ the config's models",
        "import os; os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'; "  # as cli.main does
        "import rich.console, rich.table, viggle_watch.config",
        "pydantic builds each model's validator on import",
    ),
)
# (state, share of the jobs): what a store looks like after a long busy run
MIX = (("done", 0.93), ("failed", 0.05), ("uncertain", 0.0005), ("queued", 0.0145))


def build(root: Path, jobs: int) -> Path:
    state, out = root / "state", root / "out"
    for name in ("a", "b"):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(100):
            make_character_png(folder / f"c{i:03}.png", seed=i) if i < 2 else (
                folder / f"note{i:03}.txt"
            ).write_text("x")
    out.mkdir()
    config = {
        "api": {"base_url": "http://127.0.0.1:9"},
        "state_dir": str(state),
        "budget": {"daily_credits": 500},
        "rules": [
            {
                "name": f"rule-{name}",
                "kind": "characters",
                "watch": str(root / name),
                "output": str(out),
                "mode": "preprocessed",
                "scenes": [{"template": "hiphop"}],
            }
            for name in ("a", "b")
        ],
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    db = Database.open(state / "state.db")
    spec = JobSpec(
        rule="rule-a",
        character=InputRef("character", str(root / "a" / "c000.png"), "0" * 64, 1000),
        scene=None,
        model="V4_Preview",
        output_name="c000__hiphop",
        mode="preprocessed",
        template="hiphop",
    )
    source = str(root / "a" / "c000.png")
    JobStore(db).enqueue(spec, dedup_key="seed", source_path=source, at=time.time())
    with db.write() as conn:
        conn.execute(
            "INSERT INTO jobs (rule, state, dedup_key, source_path, request_json, model, mode,"
            " priority, created_at, updated_at)"
            " WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " SELECT CASE i % 2 WHEN 0 THEN 'rule-a' ELSE 'rule-b' END, 'done', 'k' || i,"
            " source_path || i, request_json, model, mode, priority,"
            " created_at - i * 60, updated_at - i * 60 FROM n, jobs WHERE jobs.id = 1",
            (jobs,),
        )
        start = 0
        for state_name, share in MIX:
            count = round(jobs * share)
            conn.execute(
                "UPDATE jobs SET state = ? WHERE id > ? AND id <= ?",
                (state_name, start, start + count),
            )
            start += count
        conn.execute(
            "INSERT INTO job_events (job_id, at, from_state, to_state, detail)"
            " SELECT id, created_at + k, 'queued', state, 'step ' || k FROM jobs,"
            " (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) WHERE id > 1"
        )
    db.close()
    return path


def timed(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        t0 = time.perf_counter()
        config = build(Path(tmp), args.jobs)
        print(f"store of {args.jobs:,} jobs built in {time.perf_counter() - t0:.1f} s")
        base = [sys.executable, "-m", "viggle_watch"]
        for name, code, what in FLOORS:
            floor = timed([sys.executable, "-c", code], args.runs)
            print(f"  {name:28} median {statistics.median(floor):.3f} s ({what})")
        for name, command in (
            ("--version", [*base, "--version"]),
            ("status", [*base, "status", "--config", str(config)]),
            ("status --json", [*base, "status", "--json", "--config", str(config)]),
        ):
            times = timed(command, args.runs)
            target = TARGETS.get(name.split()[0])
            verdict = ""
            if target is not None:
                met = "met" if statistics.median(times) <= target else "NOT met"
                verdict = f"  target ≤ {target} s: {met}"
            print(
                f"  {name:28} median {statistics.median(times):.3f} s, best {min(times):.3f} s"
                + verdict
            )


if __name__ == "__main__":
    main()
