"""The image run as NAS users run it (issue 20): bind-mounted folders, PUID/PGID of a user who
is not root, the emulator on the host's loopback. A dropped image becomes a video owned by
PUID:PGID with the umask applied; the healthcheck passes; SIGTERM stops it cleanly; SIGKILL
mid-render, then a new container on the same folders, pays once."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.container_site import PGID, PUID, make_site
from tests.support.containers import Podman
from tests.support.waits import wait_for
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve

pytestmark = pytest.mark.timeout(600)  # the first test may build the image


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    """Renders take 6 s: long enough to kill the container while one is in flight."""
    with serve(EmulatorConfig(latency_s=6.0)) as running:
        yield running


def renders(emulator: RunningEmulator) -> int:
    return int(emulator.emulator.stats()["calls"].get("POST /api/render", 0))


def owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


def test_a_drop_renders_as_puid_with_the_umask_and_stops_cleanly(
    podman: Podman, image: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    site = make_site(tmp_path, emulator.url)
    ids = ("-e", f"PUID={PUID}", "-e", f"PGID={PGID}", "-e", "UMASK=027")
    name = podman.start(image, options=site.options(*ids))
    podman.wait_log(name, "service_started")
    site.drop("alice.png")
    video = site.wait_video()
    sidecar = video.with_suffix(".json")
    assert owner(video) == owner(sidecar) == (PUID, PGID)
    processed = site.data / "in" / "processed"
    assert owner(processed) == (PUID, PGID) and (processed / "alice.png").exists()
    assert stat.S_IMODE(processed.stat().st_mode) == 0o750  # made under UMASK=027
    store = site.config / "state" / "state.db"
    assert owner(store) == (PUID, PGID) and stat.S_IMODE(store.stat().st_mode) & 0o007 == 0
    assert json.loads(sidecar.read_text())["viggle"]["job_id"]
    health = podman("healthcheck", "run", name, check=False)
    assert health.returncode == 0, health.stdout + health.stderr
    assert podman.state(name, ".State.Health.Status") == "healthy"
    podman("stop", "--time", "10", name)  # SIGTERM; SIGKILL only after 10 s
    assert podman.state(name, ".State.ExitCode") == "0"  # not 137: it stopped on its own
    assert "service_stopped" in podman.logs(name)


def test_sigkill_mid_render_then_a_new_container_pays_once(
    podman: Podman, image: str, slow_emulator: RunningEmulator, tmp_path: Path
) -> None:
    site = make_site(tmp_path, slow_emulator.url)
    ids = ("-e", f"PUID={PUID}", "-e", f"PGID={PGID}")
    first = podman.start(image, options=site.options(*ids))
    podman.wait_log(first, "service_started")
    site.drop("bob.png")
    wait_for(lambda: renders(slow_emulator) == 1, 60, "the render was submitted")
    podman("kill", "--signal", "KILL", first)
    assert site.videos() == []  # killed mid-render
    podman("rm", first)
    second = podman.start(image, options=site.options(*ids))  # a new container: a new hostname
    site.wait_video()
    time.sleep(1.0)  # a second submission would have been made by now
    assert renders(slow_emulator) == 1
    assert len(slow_emulator.emulator.stats()["character_creations"]) == 1
    assert "service_started" in podman.logs(second)


def test_as_a_given_user_without_capabilities_on_a_read_only_root(
    podman: Podman, image: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`--user` with every capability dropped and the image's filesystem read-only: it runs as
    given, needs no capability, and writes only to /config and /data. The key comes from a
    secret file (VIGGLE_API_KEY_FILE)."""
    site = make_site(tmp_path, emulator.url)  # the user's own folders
    hardened = ("--user", f"{PUID}:{PGID}", "--cap-drop", "ALL", "--read-only")
    options = site.options(*hardened, "--read-only-tmpfs=false", "-e", "PUID=999", secret=True)
    name = podman.start(image, options=options)
    logs = podman.wait_log(name, "service_started")
    assert f"PUID=999 is not used: the container was started as uid {PUID}" in logs
    site.drop("carol.png")
    assert owner(site.wait_video()) == (PUID, PGID)


def test_a_first_start_writes_a_starter_config_owned_by_puid(
    podman: Podman, image: str, tmp_path: Path
) -> None:
    site = make_site(tmp_path, "http://127.0.0.1:9", config=False)
    ids = ("-e", f"PUID={PUID}", "-e", f"PGID={PGID}")
    done = podman("run", "--rm", *site.options(*ids), image, check=False)
    assert done.returncode == 2
    assert "no config at /config/config.yaml: wrote a starter config there." in done.stderr
    assert owner(site.config / "config.yaml") == owner(site.config / "web-token") == (PUID, PGID)
    assert owner(site.config) == (PUID, PGID)  # the root-owned mount point was handed over
    # restarted (a restart policy) before anyone edited it: it waits for the edit, no loop
    again = podman.start(image, options=site.options(*ids))
    podman.wait_log(again, "/config/config.yaml is still the starter config: edit it")
    podman.wait_log(again, "waiting for /config/config.yaml to change")
    assert podman.state(again, ".State.Running") == "true"
    with (site.config / "config.yaml").open("a", encoding="utf-8") as config:
        config.write("# edited\n")
    wait_for(lambda: podman.state(again, ".State.Running") == "false", 30, "it exits")
    assert podman.state(again, ".State.ExitCode") == "2"
    assert "/config/config.yaml changed: exiting to start again" in podman.logs(again)


def test_tz_pyav_and_pillow_work_in_the_image(podman: Podman, image: str) -> None:
    probe = (
        "import time, av, PIL.Image; print(time.strftime('%Z'), "
        "av.codec.Codec('h264', 'r').name, PIL.Image.new('RGB', (2, 2)).size)"
    )
    done = podman("run", "--rm", "-e", "TZ=Asia/Tokyo", image, "python", "-c", probe)
    assert done.stdout.split() == ["JST", "h264", "(2,", "2)"]
