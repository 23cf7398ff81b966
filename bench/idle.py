"""An idle service over many files under watch: its CPU share and resident memory.

Run: python bench/idle.py [--files 50000] [--layout root] [--rescan S] [--seconds S]

The real service runs as a subprocess (`python -m viggle_watch --log-format json run --config ...`,
what `viggle-watch run` runs) against the in-process emulator, with the config's defaults:
settle, tick and `rescan_interval` are not set, so the service uses its own (5 s, 1 s, 300 s).
What is under watch (`--layout`):
  root       N small `.txt` notes directly in the `characters` watch folder: files the rule
             does not render, yet every startup scan and periodic rescan lists them (the
             costly case);
  processed  N PNGs in the watch folder's `processed/` (what a busy folder accumulates);
             the watch root itself is empty.
After the startup scan has finished and the log has gone quiet, /proc/PID/stat (utime+stime)
and /proc/PID/status (VmRSS) are sampled every second. The window is one whole
`rescan_interval` by default, so it holds exactly one periodic rescan and its CPU share is the
long-run share. `--rescan S` writes `rescan_interval: S` into the config (not the default;
said so in the output) and `--seconds` sets another window. Targets: CPU < 0.5 % of one core,
RSS < 80 MB. Prints figures measured in this run only.
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
from typing import IO, Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/idle.py`

from tests.support.cli import stop
from viggle_watch.config import load_config
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4

CLK_TCK = os.sysconf("SC_CLK_TCK")
RESCAN_SPAN_S = 4.0  # seconds after a scheduled rescan counted as "the rescan", not the baseline


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


@dataclass
class Window:
    """What the sampling saw: per-second (end time, CPU seconds, wall seconds) and RSS."""

    samples: list[tuple[float, float, float]] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    @property
    def cpu_s(self) -> float:
        return sum(cpu for _, cpu, _ in self.samples)

    @property
    def wall_s(self) -> float:
        return sum(wall for _, _, wall in self.samples)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def memory_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def mapped(pid: int, marker: str) -> bool:
    """Whether any file mapped into the process has ``marker`` in its path."""
    return marker in Path(f"/proc/{pid}/maps").read_text()


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


def write_config(root: Path, url: str, rescan: float | None) -> Path:
    """A minimal config: one `characters` rule; every timing left at the service's default."""
    path = root / "config.yaml"
    doc: dict[str, Any] = {
        "api": {"base_url": url},
        "state_dir": "state",
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
    if rescan is not None:
        doc["rescan_interval"] = f"{rescan:g}s"
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


def measure(pid: int, seconds: float) -> Window:
    """Sample CPU and RSS once a second for ``seconds``."""
    window = Window()
    start = time.monotonic()
    last_cpu, last_wall = cpu_seconds(pid), start
    while last_wall - start < seconds - 0.5:
        time.sleep(max(0.0, last_wall + 1.0 - time.monotonic()))
        cpu, wall = cpu_seconds(pid), time.monotonic()
        window.samples.append((wall, cpu - last_cpu, wall - last_wall))
        window.rss_kb.append(memory_kb(pid, "VmRSS"))
        last_cpu, last_wall = cpu, wall
    return window


def split_rescans(window: Window, rescans: list[float]) -> tuple[float, float, float]:
    """(baseline CPU share in %, CPU seconds of all rescans, seconds counted as baseline).

    A sample ending within RESCAN_SPAN_S after a scheduled rescan belongs to that rescan; its
    CPU beyond the baseline rate is the rescan's cost.
    """
    near = [
        any(at < end <= at + RESCAN_SPAN_S + wall for at in rescans)
        for end, _, wall in window.samples
    ]
    base_cpu = sum(s[1] for s, n in zip(window.samples, near, strict=True) if not n)
    base_wall = sum(s[2] for s, n in zip(window.samples, near, strict=True) if not n)
    rate = base_cpu / base_wall if base_wall else 0.0
    span_cpu = sum(s[1] for s, n in zip(window.samples, near, strict=True) if n)
    span_wall = sum(s[2] for s, n in zip(window.samples, near, strict=True) if n)
    return 100 * rate, max(0.0, span_cpu - rate * span_wall), base_wall


def run_service(config: Path, args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    """Start `python -m viggle_watch run`, warm it up, measure it, stop it; return what was seen."""
    env = {**os.environ, "VIGGLE_API_KEY": "sk-bench"}
    command = [sys.executable, "-m", "viggle_watch", "--log-format", "json", "run", "--config"]
    proc = subprocess.Popen(
        [*command, str(config)],
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
        seen: dict[str, Any] = {
            "pid": proc.pid,
            "waited": waited,
            "startup_cpu": cpu_seconds(proc.pid),
            "startup_events": dict(sorted(logs.events.items())),
        }
        seen["window"] = measure(proc.pid, seconds)
        seen["peak_kb"] = memory_kb(proc.pid, "VmHWM")
        seen["pyav"] = mapped(proc.pid, "/av/") or mapped(proc.pid, "av.libs")
        seen["pillow"] = mapped(proc.pid, "/PIL/") or mapped(proc.pid, "pillow.libs")
    finally:
        stop(proc, 30)
        reader.join(timeout=5)
    seen["started"] = logs.started_at or 0.0
    seen["log_lines"] = logs.lines
    return seen


def report(what: str, made_s: float, interval: float, args: argparse.Namespace, seen: Any) -> None:
    window: Window = seen["window"]
    started, end = seen["started"], window.samples[-1][0]
    begin = end - window.wall_s
    first = int((begin - started) // interval) + 1
    rescans = [started + k * interval for k in range(first, first + 10_000)]
    rescans = [at for at in rescans if at <= end]
    share = 100 * window.cpu_s / window.wall_s
    base, rescan_cpu, base_wall = split_rescans(window, rescans)
    rss_mb = [kb / 1024 for kb in window.rss_kb]
    print(f"under watch: {what} (created in {made_s:.1f}s)")
    how = "set by --rescan: NOT the default" if args.rescan is not None else "the default"
    print(
        f"config: settle {seen['settle']:g}s, tick 1s (defaults), "
        f"rescan_interval {interval:g}s ({how})"
    )
    print(
        f"service: python -m viggle_watch --log-format json run, pid {seen['pid']}; warm-up "
        f"{seen['waited']:.1f}s ({seen['startup_cpu']:.1f} CPU s, log lines "
        f"{seen['startup_events']})"
    )
    at = ", ".join(f"+{r - begin:.0f}s" for r in rescans) or "none"
    print(
        f"window: {window.wall_s:.1f}s, periodic rescans in it (by schedule): "
        f"{len(rescans)} at {at}"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU: {window.cpu_s:.2f}s over {window.wall_s:.1f}s = {share:.3f}% of one core "
        f"({share / cores:.3f}% of {cores} cores) (target < 0.5%)"
    )
    print(f"  between rescans: {base:.3f}% of one core (over {base_wall:.0f}s)")
    if rescans:
        each = rescan_cpu / len(rescans)
        print(
            f"  each periodic rescan: {each:.2f} CPU s; long-run share at rescan_interval "
            f"{interval:g}s: {base:.3f}% + {100 * each / interval:.3f}% = "
            f"{base + 100 * each / interval:.3f}%"
        )
    peak_second = max(100 * c / w for _, c, w in window.samples)
    print(
        f"  per-second CPU: peak {peak_second:.1f}%, seconds above 5%: "
        f"{sum(1 for _, c, w in window.samples if c > 0.05 * w)}"
    )
    print(
        f"RSS: {max(rss_mb):.1f} MB max in window, {rss_mb[-1]:.1f} MB at the end "
        f"(target < 80 MB); peak since start (VmHWM) {seen['peak_kb'] / 1024:.1f} MB"
    )
    yes_no = {True: "yes", False: "no"}
    print(f"mapped in the service: PyAV {yes_no[seen['pyav']]}, Pillow {yes_no[seen['pillow']]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--layout", choices=["root", "processed"], default="root")
    parser.add_argument(
        "--rescan", type=float, default=None, help="rescan_interval s (default: the service's)"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="window (default: one rescan_interval)"
    )
    parser.add_argument("--warmup", type=float, default=300.0, help="give up waiting after")
    parser.add_argument("--settle-wait", type=float, default=10.0, help="min s after start")
    parser.add_argument("--quiet", type=float, default=5.0, help="s without a log line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig()) as emu:
        root = Path(tmp).resolve()
        for sub in ("in", "out", "assets"):
            (root / sub).mkdir()
        make_driving_mp4(root / "assets" / "dance.mp4", seconds=2.0)
        made = time.monotonic()
        what = populate(root, args)
        made_s = time.monotonic() - made
        config_path = write_config(root, emu.url, args.rescan)
        config = load_config(config_path)  # what the service will run with
        interval = config.rescan_interval
        seconds = interval if args.seconds is None else args.seconds
        if seconds < 2:
            parser.error("--seconds must be at least 2")
        seen = run_service(config_path, args, seconds)
        seen["settle"] = config.settle
    report(what, made_s, interval, args, seen)


if __name__ == "__main__":
    main()
