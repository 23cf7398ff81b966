"""compose.yaml's offline flow end to end (issue 20), with podman-compose: the service and the
emulator (sharing the service's network namespace, so both stay on loopback) from the image;
a PNG copied into ./data/in becomes a video and sidecar in ./data/out, and the dashboard and
the API answer on the published port."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.container_site import PGID, PUID
from tests.support.containers import ROOT, Podman
from tests.support.waits import wait_for
from tests.support.web import free_port
from viggle_watch.media.synth import make_character_png

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def compose_dir(
    podman: Podman, image: str, tmp_path: Path
) -> Iterator[tuple[Path, dict[str, str]]]:
    """The repository's compose.yaml and its offline config in a folder of their own, brought
    up with podman-compose on a free port, and down after the test."""
    found = shutil.which("podman-compose")
    if found is None:
        pytest.skip("container tests skipped: no podman-compose (pip install podman-compose)")
    shutil.copy(ROOT / "compose.yaml", tmp_path)
    shutil.copytree(ROOT / "container", tmp_path / "container")
    env = {
        **podman.env,
        "VIGGLE_WATCH_IMAGE": image,
        "VIGGLE_WATCH_PORT": str(free_port()),
        "PUID": str(PUID),
        "PGID": str(PGID),
    }
    name = f"vwtest{uuid.uuid4().hex[:8]}"
    project = [found, "--podman-path", podman.exe, "--project-name", name]

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*project, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    up = compose("up", "-d")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield tmp_path, env
    finally:
        logs = compose("logs")
        print(logs.stdout[-4000:], logs.stderr[-2000:])
        compose("down", "--volumes", "-t", "10")


def test_the_compose_file_renders_offline(compose_dir: tuple[Path, dict[str, str]]) -> None:
    folder, env = compose_dir
    base = f"http://127.0.0.1:{env['VIGGLE_WATCH_PORT']}"
    token_file = folder / "config" / "web-token"
    wait_for(token_file.exists, 60, "the dashboard's token was made at first start")
    auth = {"Authorization": f"Bearer {token_file.read_text().strip()}"}

    def answers() -> bool:
        try:
            return requests.get(f"{base}/healthz", headers=auth, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(answers, 60, "the service answered on the published port")
    staging = folder / "data" / ".dancer.png"
    make_character_png(staging, seed=7)
    staging.replace(folder / "data" / "in" / "dancer.png")  # as `cp` into ./data/in would
    out = folder / "data" / "out"
    wait_for(lambda: any(out.glob("*.json")), 90, "a video and its sidecar in ./data/out")
    video = next(out.glob("*.mp4"))
    assert video.stat().st_uid == PUID and video.stat().st_size > 0
    sidecar = json.loads(video.with_suffix(".json").read_text())
    assert sidecar["viggle"]["job_id"] and sidecar["output"]["sha256"]
    jobs = requests.get(f"{base}/api/v1/jobs", headers=auth, timeout=5).json()["jobs"]
    assert [(j["state"], j["input"]) for j in jobs] == [("done", "/data/in/dancer.png")]
    page = requests.get(f"{base}/", timeout=5, allow_redirects=True)
    assert page.status_code == 200 and "Sign in" in page.text  # the dashboard asks for the token
