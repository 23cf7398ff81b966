"""Podman for the container tests (issue 20): the image built once per run, containers started
as a user would start them, and removed after each test.

``$VIGGLE_TEST_PODMAN`` names podman (``.ci/run`` installs it and sets it), else ``podman`` on
``PATH``; ``$VIGGLE_TEST_IMAGE`` names an image already built by ``tests/container/
build_image.sh`` (``.ci/run`` builds it before the tests), else the fixture builds it.
Without podman, or where no container can run (not root: the tests check file owners by uid as
rootful Podman leaves them), every container test skips, saying why; when ``.ci/run`` named
podman and it cannot run a container, they fail instead. ``VIGGLE_TEST_CONTAINERS=off`` skips
them outright."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
BUILD: Final = ROOT / "tests" / "container" / "build_image.sh"
CONF: Final = ROOT / "tests" / "container" / "containers.conf"
PODMAN_ENV, IMAGE_ENV, OFF_ENV = "VIGGLE_TEST_PODMAN", "VIGGLE_TEST_IMAGE", "VIGGLE_TEST_CONTAINERS"
SKIP: Final = "container tests skipped"
TAG: Final = "localhost/viggle-watch:test"


def find_podman(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The podman to use, or None with the reason in words."""
    if environ.get(OFF_ENV) == "off":
        return None, f"{OFF_ENV}=off"
    if os.geteuid() != 0:
        return None, "not root: the tests check the owners of files by uid, as rootful Podman"
    named = environ.get(PODMAN_ENV)
    if named:
        return named, ""
    found = shutil.which("podman")
    return (found, "") if found else (None, f"no podman; install podman or set {PODMAN_ENV}")


@dataclass
class Podman:
    """Runs podman with the tests' containers.conf; removes what it started."""

    exe: str
    started: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))}

    def __call__(
        self, *args: str, timeout_s: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.exe, *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            env=self.env,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {done.returncode}\n{done.stderr}")
        return done

    def start(self, image: str, *args: str, options: tuple[str, ...] = ()) -> str:
        """``podman run -d`` a container named for this test; its name."""
        name = f"vw-test-{uuid.uuid4().hex[:10]}"
        self.started.append(name)
        self("run", "-d", "--name", name, *options, image, *args)
        return name

    def logs(self, name: str) -> str:
        done = self("logs", name, check=False)
        return done.stdout + done.stderr

    def state(self, name: str, what: str) -> str:
        """A field of ``podman inspect``: ``.State.ExitCode``, ``.State.Running``…"""
        return self("inspect", "--format", f"{{{{{what}}}}}", name).stdout.strip()

    def wait_log(self, name: str, text: str, timeout_s: float = 60) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            logs = self.logs(name)
            if text in logs:
                return logs
            if self.state(name, ".State.Running") != "true":
                break
            time.sleep(0.25)
        raise AssertionError(f"{name} never logged {text!r}:\n{self.logs(name)[-3000:]}")

    def remove_all(self) -> None:
        for name in self.started:
            self("rm", "--force", "--volumes", "--time", "0", name, check=False)
        self.started.clear()


@pytest.fixture(scope="session")
def podman_exe() -> str:
    """Podman that can run a container here, or a skip saying why (a failure when CI named it)."""
    exe, why = find_podman(os.environ)
    if exe is None:
        pytest.skip(f"{SKIP}: {why}")
    probe = subprocess.run(
        [exe, "info", "--format", "{{.Host.OCIRuntime.Name}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))},
    )
    if probe.returncode != 0:
        if os.environ.get(PODMAN_ENV):
            raise AssertionError(f"{exe} cannot run here:\n{probe.stderr}")
        pytest.skip(f"{SKIP}: {exe} cannot run here: {probe.stderr.strip()[:300]}")
    return exe


@pytest.fixture(scope="session")
def image(podman_exe: str) -> str:
    """The viggle-watch image: ``$VIGGLE_TEST_IMAGE``, or built now by build_image.sh."""
    named = os.environ.get(IMAGE_ENV)
    if named:
        return named
    failed = os.environ.get(f"{IMAGE_ENV}_FAILED")  # .ci/run tried, and the build failed
    if failed:
        log = Path(failed).read_text(encoding="utf-8", errors="replace")[-4000:]
        raise AssertionError(f"the image did not build (.ci/run):\n{log}")
    built = subprocess.run(
        [str(BUILD), TAG],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        env={**os.environ, "PATH": f"{Path(podman_exe).parent}:{os.environ['PATH']}"},
    )
    if built.returncode != 0:
        raise AssertionError(f"build_image.sh failed:\n{built.stderr[-4000:]}")
    return built.stdout.strip()


@pytest.fixture
def podman(podman_exe: str) -> Iterator[Podman]:
    """Podman for one test; every container it started is removed after it."""
    runner = Podman(podman_exe)
    yield runner
    runner.remove_all()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "container: builds or runs the image (tests/container)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that asks for podman is marked ``container``: ``-m 'not container'`` leaves
    them out."""
    for item in items:
        if {"podman", "podman_exe", "image"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.container)
