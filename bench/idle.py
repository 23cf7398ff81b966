"""An idle service over many files under watch: its CPU share and resident memory.

Run: python bench/idle.py [--files 50000] [--layout root] [--seconds 60] [--rescan 30]

The service runs as a subprocess (`python -m daemon run`, JSON logs, default settle and tick)
against the in-process emulator. What is under watch (`--layout`):
  root       N small `.txt` notes directly in the `characters` watch folder: files the rule
             does not render, yet every startup scan and periodic rescan lists and stats
             them and the settle tracker re-checks each (the costly case);
  processed  N PNGs in the watch folder's `processed/` (what a busy folder accumulates);
             the watch root itself is empty.
After the startup scan has finished and the log has gone quiet, /proc/PID/stat (utime+stime)
and /proc/PID/status (VmRSS) are sampled every second for `--seconds`. `rescan_interval` is
`--rescan` so the window holds at least one periodic rescan. Targets: CPU < 0.5 % of one
core, RSS < 80 MB. Prints figures measured in this run only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from daemon.media import make_character_png, make_driving_mp4
from daemon.viggle.emulator import EmulatorConfig, serve

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class LogWatch:
    """Drains the service's stderr; remembers when it started and when it last logged."""

    lines: int = 0
    started_at: float | None = None
    last_line_at: float = field(default_factory=time.monotonic)
    events: dict[str, int] = field(default_factory=dict)
    tail: list[str] = field(default_factory=list)

    def follow(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.lines += 1
            self.last_line_at = time.monotonic()
            text = raw.decode("utf-8", errors="replace").strip()
            self.tail = [*self.tail[-9:], text]
            try:
                event = str(json.loads(text).get("event", ""))
            except (ValueError, AttributeError):
                continue
            self.events[event] = self.events.get(event, 0) + 1
            if event == "service_started":
                self.started_at = self.last_line_at


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def memory_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def populate(root: Path, args: argparse.Namespace) -> str:
    watch = root / "in"
    if args.layout == "root":
        for i in range(args.files):
            (watch / f"note{i:06d}.txt").write_bytes(b"take %d: notes for the editor\n" % i)
        return f"{args.files} .txt notes directly in the watch folder (not rendered by the rule)"
    base = make_character_png(root / "assets" / "base.png", seed=1).read_bytes()
    (watch / "processed").mkdir()
    for i in range(args.files):
        (watch / "processed" / f"c{i:06d}.png").write_bytes(base + b"%d" % i)
    return f"{args.files} PNGs in the watch folder's processed/ (already rendered)"


def write_config(root: Path, url: str, rescan: float) -> Path:
    path = root / "config.yaml"
    doc = {
        "api": {"base_url": url},
        "state_dir": "state",
        "rescan_interval": f"{rescan}s",
        "rules": [
            {
                "name": "idle",
                "kind": "characters",
                "watch": "in",
                "output": "out",
                "scenes": [{"video": "assets/dance.mp4"}],
            }
        ],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def warm_up(proc: subprocess.Popen[bytes], logs: LogWatch, args: argparse.Namespace) -> float:
    """Wait for `service_started`, then for the log to be quiet; return seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < args.warmup:
        if proc.poll() is not None:
            raise SystemExit("bench: the service exited:\n" + "\n".join(logs.tail))
        started = logs.started_at
        if started is not None:
            now = time.monotonic()
            settled = now - started > args.settle_wait
            if settled and now - logs.last_line_at > args.quiet:
                break
        time.sleep(0.2)
    if logs.started_at is None:
        raise SystemExit("bench: no service_started after the warm-up:\n" + "\n".join(logs.tail))
    return time.monotonic() - began


def measure(pid: int, seconds: float) -> tuple[float, float, list[float], list[int]]:
    """CPU seconds and wall seconds over the window, per-second CPU shares and RSS samples."""
    shares: list[float] = []
    rss: list[int] = []
    start_cpu, start_wall = cpu_seconds(pid), time.monotonic()
    last_cpu, last_wall = start_cpu, start_wall
    while time.monotonic() - start_wall < seconds:
        time.sleep(1.0)
        cpu, wall = cpu_seconds(pid), time.monotonic()
        shares.append(100 * (cpu - last_cpu) / (wall - last_wall))
        rss.append(memory_kb(pid, "VmRSS"))
        last_cpu, last_wall = cpu, wall
    return last_cpu - start_cpu, last_wall - start_wall, shares, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--layout", choices=["root", "processed"], default="root")
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--rescan", type=float, default=30.0, help="rescan_interval seconds")
    parser.add_argument("--warmup", type=float, default=300.0, help="give up waiting after")
    parser.add_argument("--settle-wait", type=float, default=10.0, help="min s after start")
    parser.add_argument("--quiet", type=float, default=5.0, help="s without a log line")
    args = parser.parse_args()
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig()) as emu:
        root = Path(tmp).resolve()
        for sub in ("in", "out", "assets"):
            (root / sub).mkdir()
        make_driving_mp4(root / "assets" / "dance.mp4", seconds=2.0)
        made = time.monotonic()
        what = populate(root, args)
        made_s = time.monotonic() - made
        config = write_config(root, emu.url, args.rescan)
        env = {**os.environ, "VIGGLE_API_KEY": "sk-bench"}
        command = [sys.executable, "-m", "daemon", "--log-format", "json", "run"]
        proc = subprocess.Popen(
            [*command, "--config", str(config)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        logs = LogWatch()
        reader = threading.Thread(target=logs.follow, args=(proc.stderr,), daemon=True)
        reader.start()
        try:
            waited = warm_up(proc, logs, args)
            startup_cpu = cpu_seconds(proc.pid)
            startup_events = dict(sorted(logs.events.items()))
            cpu, wall, shares, rss = measure(proc.pid, args.seconds)
            peak_kb = max([memory_kb(proc.pid, "VmHWM"), *rss])
            window_end = time.monotonic()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)

    started = logs.started_at or 0.0
    window_start = window_end - wall
    first = int((window_start - started) // args.rescan) + 1
    rescans = [k for k in range(first, first + 1000) if started + k * args.rescan <= window_end]
    share = 100 * cpu / wall
    rss_mb = [kb / 1024 for kb in rss]
    print(f"under watch: {what} (created in {made_s:.1f}s)")
    print(
        f"service: python -m daemon run, pid {proc.pid}, settle 5s, tick 1s, rescan_interval "
        f"{args.rescan:g}s; warm-up {waited:.1f}s ({startup_cpu:.1f} CPU s, "
        f"{sum(startup_events.values())} log lines: {startup_events})"
    )
    print(
        f"window: {wall:.1f}s, periodic rescans in it (by schedule): {len(rescans)} "
        f"at +{', +'.join(f'{started + k * args.rescan - window_start:.0f}s' for k in rescans)}"
    )
    print(
        f"CPU: {cpu:.2f}s over {wall:.1f}s = {share:.2f}% of one core "
        f"({share / (os.cpu_count() or 1):.2f}% of {os.cpu_count()} cores) (target < 0.5%)"
    )
    busy = sorted(shares, reverse=True)
    print(
        f"  per-second CPU: peak {busy[0]:.1f}%, seconds above 5%: "
        f"{sum(1 for s in shares if s > 5)}, median {sorted(shares)[len(shares) // 2]:.1f}%"
    )
    print(
        f"RSS: {max(rss_mb):.1f} MB max in window, {rss_mb[-1]:.1f} MB at the end "
        f"(target < 80 MB); peak since start (VmHWM) {peak_kb / 1024:.1f} MB"
    )


if __name__ == "__main__":
    main()
