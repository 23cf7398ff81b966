"""Deliverables from a transparent render (issue 16): ProRes 4444, WebM with alpha, PNG sequence.

Run: python bench/deliver.py [--seconds 10]

Synthesizes (untimed) what Viggle's transparent mode returns at 720p: a 1280x720 25 fps H.264
render of a moving filled shape on a coloured background and its mask, the same shape white
on black. Then, for each deliverable, runs the real child command the service runs
(``python -m viggle_watch.media.encode KIND render.mp4 OUT --name hero --mask mask.mp4``) and
prints its wall time, its speed as a multiple of real time (video seconds / wall seconds), its
CPU time and its peak memory (that child's own ``ru_maxrss``, from ``os.wait4``), measured in
this run only. Target: ProRes 4444 at least 2x real time on a 2-core machine. The load average
is printed too: another busy process on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/deliver.py`

from viggle_watch.media.encode import KINDS

SIZE = (1280, 720)
FPS = 25
TARGET_X = 2.0  # ProRes 4444: at least twice as fast as real time
TIMES = "\N{MULTIPLICATION SIGN}"
OUT_NAMES = {"prores4444": "hero.mov.part", "webm_alpha": "hero.webm.part"}


def synthesize(path: Path, frames: int, *, mask: bool) -> Path:
    """An H.264 720p video of an ellipse swinging across: coloured, or white on black."""
    import av
    from PIL import Image, ImageDraw

    width, height = SIZE
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for n in range(frames):
            image = Image.new("RGB", SIZE, (0, 0, 0) if mask else (30, 90, 160))
            x = int(width / 2 + width / 3 * math.sin(2 * math.pi * n / frames))
            shape = (x - 150, height // 2 - 250, x + 150, height // 2 + 250)
            ImageDraw.Draw(image).ellipse(shape, fill=(255, 255, 255) if mask else (230, 120, 40))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


def run_child(kind: str, render: Path, mask: Path, out: Path) -> dict[str, object]:
    """Run one child; its wall time, its own rusage (CPU, peak RSS) and its JSON answer."""
    command = [sys.executable, "-m", "viggle_watch.media.encode", kind, str(render), str(out)]
    command += ["--name", "hero", "--mask", str(mask)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert child.stdout is not None
    answer = child.stdout.read()  # until the child closes it, at its exit
    _, status, usage = os.wait4(child.pid, 0)
    wall_s = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    child.stdout.close()
    return {
        "code": child.returncode,
        "wall_s": wall_s,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "answer": json.loads(answer),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the render")
    args = parser.parse_args()
    frames = round(args.seconds * FPS)
    with tempfile.TemporaryDirectory(prefix="bench-deliver-") as tmp:
        root = Path(tmp)
        render = synthesize(root / "render.mp4", frames, mask=False)
        mask = synthesize(root / "mask.mp4", frames, mask=True)
        print(f"render: {SIZE[0]}x{SIZE[1]} {FPS} fps, {args.seconds:g} s ({frames} frames) + mask")
        print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
        print(f"{'kind':<14}{'wall s':>8}{'x real':>8}{'cpu s':>8}{'peak MiB':>10}{'MB out':>9}")
        speeds: dict[str, float] = {}
        for kind in KINDS:
            out = root / OUT_NAMES.get(kind, "hero.frames.part")
            run = run_child(kind, render, mask, out)
            if run["code"] != 0:
                print(f"{kind:<14}failed: {run['answer']}")
                continue
            wall_s, cpu_s, peak = (float(run[k]) for k in ("wall_s", "cpu_s", "peak_mib"))  # type: ignore[arg-type]
            speeds[kind] = args.seconds / wall_s
            print(
                f"{kind:<14}{wall_s:>8.2f}{speeds[kind]:>8.2f}{cpu_s:>8.2f}{peak:>10.0f}"
                f"{size_of(out) / 1e6:>9.1f}"
            )
        met = speeds.get("prores4444", 0.0) >= TARGET_X
        verdict = "met" if met else "NOT met"
        print(f"target: ProRes 4444 ≥ {TARGET_X:g}{TIMES} real time: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
