"""`viggle-watch plan` over N files: never seen, then already seen (issue 13 §9).

Run: python bench/plan.py [--files 1000]

Writes a config with two rules into a temp dir: `characters` (N/2 distinct PNGs x one scene
video) and `pairs` (N/4 PNG + MP4 pairs, each video its own file, so each is probed). Then
runs the real command (`python -m viggle_watch plan --json`, what `viggle-watch plan` runs)
three times:
  cold   no state directory: nothing remembered, every image decoded and every video probed
         (each probe a child process);
  first  a state directory, nothing remembered yet: measures and remembers
         (``state_dir/file-facts.db``);
  warm   the same files again: everything remembered.
Prints seconds per file for each and the cold/warm ratio, measured in this run only. Target:
warm ≤ 0.01 s a file at 1,000 files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/plan.py`

from viggle_watch.media.synth import make_character_png, make_video

TARGET_S = 0.01


def build(root: Path, files: int) -> tuple[Path, Path]:
    chars, pairs, out, state = root / "chars", root / "pairs", root / "out", root / "state"
    for folder in (chars, pairs, out):
        folder.mkdir(parents=True)
    scene = make_video(root / "scene.mp4", seconds=2.0)
    for i in range(files // 2):
        make_character_png(chars / f"c{i:05}.png", seed=i)
    for i in range(files // 4):
        make_character_png(pairs / f"p{i:05}.png", seed=100_000 + i)
        make_video(pairs / f"p{i:05}.mp4", seconds=1.0, seed=i)
    config = {
        "api": {"base_url": "http://127.0.0.1:9"},
        "state_dir": str(state),
        "rules": [
            {
                "name": "dance",
                "kind": "characters",
                "watch": str(chars),
                "output": str(out),
                "scenes": [{"video": str(scene)}],
            },
            {"name": "duo", "kind": "pairs", "watch": str(pairs), "output": str(out)},
        ],
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path, state


def run_plan(config: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "viggle_watch", "plan", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, len(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        config, state = build(Path(tmp), args.files)
        files = args.files // 2 + 2 * (args.files // 4)
        cold, lines = run_plan(config)
        state.mkdir(mode=0o750)
        first, _ = run_plan(config)
        warm, again = run_plan(config)
        assert again == lines, "the warm plan must say what the cold one said"
        shutil.rmtree(state)
    print(
        f"plan of {files} files ({lines} lines: {args.files // 2} characters, "
        f"{args.files // 4} pairs)"
    )
    for name, seconds in (("cold", cold), ("first", first), ("warm", warm)):
        print(f"  {name:6} {seconds:7.2f} s   {seconds / files:.4f} s a file")
    print(
        f"  cold / warm = {cold / warm:.1f}x; target warm ≤ {TARGET_S} s a file: "
        f"{'met' if warm / files <= TARGET_S else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
