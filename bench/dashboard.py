"""The dashboard live (issue 18): how soon a change reaches an open page, and what an idle
service with one browser connected costs.

Run: python bench/dashboard.py [--jobs 200000] [--changes 20] [--seconds 60]

1. Latency. The store of ``bench/status.py`` (``--jobs`` jobs), the service's web listener
   in this process, Debian's chromium (Playwright) on the overview. ``--changes`` times: a
   queued job is cancelled in the store (as the CLI or another host would), and the time until
   the page's "cancelled" count shows it is measured (the page polls its DOM every frame).
   Target: within 1 s.
2. Idle. The real service (`python -m viggle_watch run`, as ``bench/idle.py`` runs it, against
   the emulator, defaults for every timing) with ``web:`` on loopback and the overview open in
   chromium for ``--seconds``: the service's CPU share and resident memory, sampled each
   second from /proc. Targets: ≤ 1 % of one core, ≤ 100 MB RSS.
Prints figures measured in this run only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/dashboard.py`

from bench.idle import LogWatch, measure, memory_kb, warm_up, write_config
from bench.status import build
from bench.web import free_port
from tests.support.browser import FLAGS, find_chromium
from tests.support.cli import stop
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.config import load_config
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_driving_mp4
from viggle_watch.store.states import State

COUNT = "document.querySelector('.tile .n[data-state=cancelled]').textContent"


def with_web(config_path: Path, port: int) -> None:
    doc = yaml.safe_load(config_path.read_text())
    doc["web"] = {"listen": f"127.0.0.1:{port}"}
    config_path.write_text(yaml.safe_dump(doc))


def latency(browser: Any, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        config_path = build(Path(tmp), args.jobs)
        port = free_port()
        with_web(config_path, port)
        service = build_service(load_config(config_path), ApiKey("sk-bench"))
        assert service.web is not None
        service.web.start()
        page = browser.new_page()
        try:
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_timeout(1000)  # the event stream is open
            queued = [j.id for j in service.store.latest(state=State.QUEUED, limit=args.changes)]
            times = []
            for job_id in queued:
                before = int(page.evaluate(COUNT))
                t0 = time.perf_counter()
                service.store.transition(
                    job_id, State.QUEUED, State.CANCELLED, at=time.time(), detail="bench"
                )
                page.wait_for_function(f"Number({COUNT}) > {before}", polling="raf")
                times.append(time.perf_counter() - t0)
                page.wait_for_timeout(300)  # apart, as a person's changes are
        finally:
            page.close()
            service.web.stop()
            service.db.close()
    worst = max(times)
    print(
        f"latency on {args.jobs:,} jobs, {len(times)} changes: p50 "
        f"{statistics.median(times) * 1000:.0f} ms, max {worst * 1000:.0f} ms "
        f"(target ≤ 1000 ms: {'met' if worst <= 1.0 else 'NOT met'})"
    )


def idle(browser: Any, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig()) as emu:
        root = Path(tmp).resolve()
        for sub in ("in", "out", "assets"):
            (root / sub).mkdir()
        make_driving_mp4(root / "assets" / "dance.mp4", seconds=2.0)
        config_path = write_config(root, emu.url, None)
        port = free_port()
        with_web(config_path, port)
        env = {**os.environ, "VIGGLE_API_KEY": "sk-bench"}
        command = [sys.executable, "-m", "viggle_watch", "--log-format", "json", "run"]
        proc = subprocess.Popen(
            [*command, "--config", str(config_path)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        logs = LogWatch()
        reader = threading.Thread(target=logs.follow, args=(proc.stderr,), daemon=True)
        reader.start()
        page = browser.new_page()
        try:
            warm_up(proc, logs, args)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_timeout(2000)
            window = measure(proc.pid, args.seconds)
            peak = memory_kb(proc.pid, "VmHWM")
            connected = page.evaluate("document.querySelector('#overview') !== null")
        finally:
            page.close()
            stop(proc, 30)
            reader.join(timeout=5)
    share = 100 * window.cpu_s / window.wall_s
    rss = max(window.rss_kb) / 1024
    print(
        f"idle with the overview open ({'connected' if connected else 'NOT connected'}): "
        f"CPU {window.cpu_s:.2f} s over {window.wall_s:.0f} s = {share:.2f} % of one core "
        f"(target ≤ 1 %: {'met' if share <= 1.0 else 'NOT met'}); RSS {rss:.1f} MB max "
        f"(target ≤ 100 MB: {'met' if rss <= 100 else 'NOT met'}; VmHWM {peak / 1024:.1f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=120.0)
    parser.add_argument("--settle-wait", type=float, default=5.0)
    parser.add_argument("--quiet", type=float, default=3.0)
    args = parser.parse_args()
    executable, why = find_chromium(os.environ)
    if executable is None:
        raise SystemExit(f"bench: no chromium ({why})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(FLAGS))
        try:
            latency(browser, args)
            idle(browser, args)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
