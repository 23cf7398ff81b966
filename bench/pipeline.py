"""200 renders against the emulator: wall time vs the ideal, and API calls per render.

Run: python bench/pipeline.py [--renders 200] [--latency 2.0] [--concurrency 10] [--poll 0.2]
                             [--notify-hang]

``--notify-hang`` adds a notify target (Apprise ``json://``) told of every render done that
never answers (a socket on 127.0.0.1 that listens and never replies): compare the wall time
with a run without it — a hanging target must not slow the renders (issue 17).

The ideal is L x ceil(N / C): every render slot busy all the time. Target ratio <= 1.10.
API calls per render target: 1 submit + <= ceil(L / poll) + 2 polls (+1 download).
Prints figures measured in this run only; nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import logging
import math
import socket
import tempfile
import time
from pathlib import Path

import yaml

from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.config import load_config
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.logs import configure_logging
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import IN_FLIGHT, State


def write_config(root: Path, url: str, args: argparse.Namespace, hang: str | None = None) -> Path:
    path = root / "config.yaml"
    doc: dict[str, object] = {
        "api": {"base_url": url},
        "state_dir": "state",
        "poll_interval": f"{args.poll}s",
        "settle": "100ms",
        "max_concurrent_renders": args.concurrency,
        "rate_limit": 1000,
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
    if hang is not None:  # every render done is told to a target that never answers
        doc["notify"] = [{"url": f"json://{hang}/x", "events": ["done"]}]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--latency", type=float, default=2.0, help="emulator render seconds")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--poll", type=float, default=0.2, help="poll_interval seconds")
    parser.add_argument("--notify-hang", action="store_true", help="a notify target that hangs")
    args = parser.parse_args()
    silent = socket.socket()  # listens, never accepts or answers: a hung receiver
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    hang = f"127.0.0.1:{silent.getsockname()[1]}" if args.notify_hang else None
    configure_logging(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig(latency_s=args.latency)) as emu:
        root = Path(tmp)
        for sub in ("in", "out", "assets", "staging"):
            (root / sub).mkdir()
        make_driving_mp4(root / "assets" / "dance.mp4", seconds=2.0)
        for i in range(args.renders):
            make_character_png(root / "staging" / f"c{i}.png", seed=i)
        service = build_service(
            load_config(write_config(root, emu.url, args, hang)),
            ApiKey("sk-bench"),
            tick_interval_s=0.02,
        )
        service.start()
        for i in range(args.renders):
            (root / "staging" / f"c{i}.png").replace(root / "in" / f"c{i}.png")
        # the clock starts when the first job is queued: settle time is not render time
        while not service.store.counts()[State.QUEUED] and not service.store.count_in(IN_FLIGHT):
            time.sleep(0.005)
        started = time.monotonic()
        while service.store.counts()[State.DONE] < args.renders:
            if time.monotonic() - started > 1800:
                raise SystemExit("bench: not finished after 30 minutes")
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        service.stop()
        stats = emu.emulator.stats()
    calls = stats["calls"]
    ideal = args.latency * math.ceil(args.renders / args.concurrency)
    polls = calls.get("GET /api/render", 0) / args.renders
    budget = 1 + math.ceil(args.latency / args.poll) + 2
    silent.close()
    print(
        f"renders: {args.renders}  latency L: {args.latency}s  concurrency C: "
        f"{args.concurrency}  poll: {args.poll}s"
        + ("  notify: a target that never answers" if hang else "")
    )
    print(
        f"wall time: {elapsed:.2f}s  ideal L x ceil(N/C): {ideal:.2f}s  "
        f"ratio: {elapsed / ideal:.3f} (target <= 1.10)"
    )
    print(f"throughput: {args.renders / elapsed * 60:.0f} renders/min")
    print(f"render submissions: {len(stats['render_submissions'])} (must equal renders)")
    print(
        f"per render: submits {calls.get('POST /api/render', 0) / args.renders:.2f}, "
        f"polls {polls:.2f}, downloads {calls.get('GET /cdn', 0) / args.renders:.2f}; "
        f"1 submit + polls = {1 + polls:.2f} (target <= {budget})"
    )


if __name__ == "__main__":
    main()
