"""Throughput of the whole pipeline against the emulator: jobs/minute and API calls per job.

Run: python bench/pipeline_throughput.py [--jobs 40] [--latency 1.0]
Prints figures measured in this run only; nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import requests
import yaml

from daemon.apikey import ApiKey
from daemon.config import load_config
from daemon.logs import configure_logging
from daemon.media import make_character_png, make_driving_mp4
from daemon.service import build_service
from daemon.store.states import State
from daemon.viggle.emulator import EmulatorConfig, serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--latency", type=float, default=1.0, help="emulator render seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    configure_logging(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig(latency_s=args.latency)) as emu:
        root = Path(tmp)
        for sub in ("in", "out", "assets", "staging"):
            (root / sub).mkdir()
        make_driving_mp4(root / "assets" / "dance.mp4", seconds=2.0)
        config_path = root / "config.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "api": {"base_url": emu.url},
                    "state_dir": "state",
                    "poll_interval": "250ms",
                    "settle": "200ms",
                    "max_concurrent_renders": args.concurrency,
                    "rules": [
                        {
                            "name": "bench",
                            "kind": "characters",
                            "watch": "in",
                            "output": "out",
                            "scenes": [{"video": "assets/dance.mp4"}],
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        service = build_service(load_config(config_path), ApiKey("sk-bench"), tick_interval_s=0.05)
        for i in range(args.jobs):
            make_character_png(root / "staging" / f"c{i}.png", seed=i)
        service.start()
        started = time.monotonic()
        for i in range(args.jobs):
            (root / "staging" / f"c{i}.png").replace(root / "in" / f"c{i}.png")
        while service.store.counts()[State.DONE] < args.jobs:
            if time.monotonic() - started > 300:
                raise SystemExit("bench: not finished after 300 s")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        service.stop()
        stats = requests.get(f"{emu.url}/_sim/stats", timeout=5).json()
    calls = sum(stats["calls"].values()) - stats["calls"].get("GET /_sim/stats", 0) - 1
    ideal = args.latency * args.jobs / args.concurrency
    print(f"jobs: {args.jobs}  concurrency: {args.concurrency}  emulator latency: {args.latency}s")
    print(f"wall time: {elapsed:.2f}s  throughput: {args.jobs / elapsed * 60:.0f} jobs/min")
    print(f"ideal (latency x jobs / concurrency): {ideal:.2f}s  wall/ideal: {elapsed / ideal:.2f}")
    print(f"render submissions: {len(stats['render_submissions'])} (must equal jobs)")
    print(f"API calls per job: {calls / args.jobs:.1f}  ({stats['calls']})")


if __name__ == "__main__":
    main()
