"""The JSON API on a store of many jobs (issue 18): each request's time, p50 and p95, as a
client on 127.0.0.1 sees it (so server time plus loopback).

Run: python bench/web.py [--jobs 200000] [--requests 40]

Builds the store of ``bench/status.py`` (most jobs done, some failed, a few uncertain and
queued; four events each), starts the service's web listener only (no ticks), and asks
``/api/v1/status``, ``/api/v1/jobs`` with each filter and a cursor deep in the list, and one
job. Target: p95 ≤ 150 ms for the jobs list and a job (the status answer also walks the watch
folders, as `status --json` does). Prints figures measured in this run only.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/web.py`

from bench.status import build
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.config import load_config

TARGET_P95_S = 0.150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        t0 = time.perf_counter()
        config_path = build(Path(tmp), args.jobs)
        port = free_port()
        doc = yaml.safe_load(config_path.read_text())
        doc["web"] = {"listen": f"127.0.0.1:{port}"}
        config_path.write_text(yaml.safe_dump(doc))
        print(f"store of {args.jobs:,} jobs built in {time.perf_counter() - t0:.1f} s")
        service = build_service(load_config(config_path), ApiKey("sk-bench"))
        assert service.web is not None
        service.web.start()
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        asks: dict[str, tuple[str, dict[str, float | int | str]]] = {
            "status": ("/api/v1/status", {}),
            "jobs": ("/api/v1/jobs", {}),
            "jobs state=failed": ("/api/v1/jobs", {"state": "failed"}),
            "jobs rule=rule-b": ("/api/v1/jobs", {"rule": "rule-b"}),
            "jobs q=c000": ("/api/v1/jobs", {"q": "c000"}),
            "jobs since": ("/api/v1/jobs", {"since": time.time() - 86400}),
            "jobs cursor deep": ("/api/v1/jobs", {"cursor": args.jobs // 2}),
            "job": (f"/api/v1/jobs/{args.jobs // 3}", {}),
            "page overview": ("/", {}),
            "page jobs": ("/jobs", {}),
            "page jobs state": ("/jobs", {"state": "failed"}),
            "page jobs rule": ("/jobs", {"rule": "rule-b"}),
            "page jobs q": ("/jobs", {"q": "c000"}),
            "page jobs date": ("/jobs", {"since": time.strftime("%Y-%m-%d")}),
            "page jobs older": ("/jobs", {"cursor": args.jobs // 2}),
            "page job": (f"/jobs/{args.jobs // 3}", {}),
            "page attention": ("/attention", {}),
        }
        try:
            for name, (path, params) in asks.items():
                times = []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    answer = session.get(base + path, params=params, timeout=30)
                    times.append(time.perf_counter() - t)
                    answer.raise_for_status()
                p95 = statistics.quantiles(times, n=20)[-1]
                verdict = (
                    ""
                    if name == "status"
                    else ("  target ≤ 0.150 s: " + ("met" if p95 <= TARGET_P95_S else "NOT met"))
                )
                print(
                    f"  {name:20} p50 {statistics.median(times) * 1000:6.1f} ms"
                    f"  p95 {p95 * 1000:6.1f} ms{verdict}"
                )
        finally:
            service.web.stop()
            service.db.close()


if __name__ == "__main__":
    main()
