"""The container image (issue 20): build times, its size, and the service in it as a user runs
it — start to ready, a dropped image to its video, SIGTERM to stopped, memory when idle.

Run (as root, with podman): python bench/container.py [--cold]

Builds with ``tests/container/build_image.sh`` (Podman, a debootstrap base; the settings in
``tests/container/containers.conf``): ``--cold`` first removes the base, every image layer and
Podman's build caches, so the first build starts from nothing; then the same build again (all
layers kept), and a build after a one-line change in the source (the base and the pip cache
kept). Then it runs the image on the host's network against the emulator on 127.0.0.1.
Prints figures measured in this run only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/container.py`

from tests.support.container_site import PGID, PUID, make_site
from tests.support.containers import BUILD, CONF, Podman
from viggle_watch.emulator.server import EmulatorConfig, serve

ROOT = Path(__file__).resolve().parents[1]
TAG = "localhost/viggle-watch:bench"
BASE = "localhost/viggle-watch-base:bookworm-minbase"
BUILD_CACHE = Path("/var/tmp/buildah-cache")  # noqa: S108 - where rootful Podman keeps it


def timed_build(context: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [str(context / BUILD.relative_to(ROOT)), TAG],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def forget_everything(podman: Podman) -> None:
    """No base, no layers, no build cache: a machine that never built the image."""
    podman("rmi", "--force", TAG, BASE, check=False)
    podman("image", "prune", "--all", "--force", check=False)
    shutil.rmtree(BUILD_CACHE, ignore_errors=True)  # RUN --mount=type=cache (the pip cache)


def changed_copy(into: Path) -> Path:
    """The repository's tracked files, with one comment added to one module."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    module = into / "daemon" / "viggle_watch" / "clock.py"
    module.write_text(module.read_text() + "# a change\n")
    return into


def builds(podman: Podman, cold: bool) -> None:
    env = {**os.environ, "CONTAINERS_CONF": str(CONF)}
    if cold:
        forget_everything(podman)
        print(f"build, cold (no base, no layers, no cache): {timed_build(ROOT, env):6.1f} s")
    print(f"build, again (every layer kept):             {timed_build(ROOT, env):6.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        took = timed_build(changed_copy(Path(tmp)), env)
    print(f"build, after a change in the source:         {took:6.1f} s")
    timed_build(ROOT, env)  # the bench's tag is the repository's image again
    size = int(podman("image", "inspect", "--format", "{{.Size}}", TAG).stdout)
    base = int(podman("image", "inspect", "--format", "{{.Size}}", BASE).stdout)
    print(f"image size: {size / 1e6:.0f} MB (the base: {base / 1e6:.0f} MB)")


def run(podman: Podman) -> None:
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig(latency_s=2.0)) as emu:
        site = make_site(Path(tmp), emu.url)
        ids = ("-e", f"PUID={PUID}", "-e", f"PGID={PGID}")
        t0 = time.perf_counter()
        name = podman.start(TAG, options=site.options(*ids))
        try:
            podman.wait_log(name, "service_started")
            print(f"start to ready (service_started): {time.perf_counter() - t0:5.2f} s")
            t0 = time.perf_counter()
            site.drop("bench.png")
            site.wait_video()
            print(f"a drop to its video (emulator render 2 s): {time.perf_counter() - t0:5.2f} s")
            time.sleep(5)
            memory = podman("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout
            print(f"memory when idle: {memory.strip()}")
            t0 = time.perf_counter()
            podman("stop", "--time", "10", name)
            code = podman.state(name, ".State.ExitCode")
            print(f"SIGTERM to stopped: {time.perf_counter() - t0:5.2f} s (exit code {code})")
        finally:
            podman.remove_all()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="remove the base and every layer")
    args = parser.parse_args()
    podman = Podman(shutil.which("podman") or "podman")
    builds(podman, args.cold)
    run(podman)
    return 0


if __name__ == "__main__":
    sys.exit(main())
