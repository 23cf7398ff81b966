"""A place to run the image as a user would (issue 20): a config folder and a data folder,
bind-mounted at /config and /data, a config that renders against the emulator on the host's
loopback (the container shares the host's network), and a dropped image owned as a NAS share
would leave it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from tests.support.emulator import SOLO_TEMPLATE
from tests.support.web import free_port
from viggle_watch.media.synth import make_character_png

PUID, PGID = 1234, 2345  # a user and a group nobody on the host has
KEY: Final = "sk-container-tests"


@dataclass(frozen=True)
class Site:
    root: Path
    port: int

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def options(self, *extra: str, secret: bool = False) -> tuple[str, ...]:
        """``podman run`` options: the two folders, the host's network, the key — in the
        environment, or (``secret``) in a file mounted as a secret and named by
        ``VIGGLE_API_KEY_FILE``."""
        key: tuple[str, ...] = ("-e", f"VIGGLE_API_KEY={KEY}")
        if secret:
            file = self.root / "viggle_api_key"
            file.write_text(f"{KEY}\n", encoding="utf-8")
            os.chown(file, PUID, PGID)
            file.chmod(0o400)
            mounted = "/run/secrets/viggle_api_key"
            key = ("-v", f"{file}:{mounted}:ro", "-e", f"VIGGLE_API_KEY_FILE={mounted}")
        return (
            "--network=host",
            *("-v", f"{self.config}:/config", "-v", f"{self.data}:/data"),
            *key,
            *extra,
        )

    def drop(self, name: str, owner: tuple[int, int] = (PUID, PGID)) -> Path:
        """A character image written beside the watch folder and moved in whole."""
        staging = self.data / f".{name}"
        make_character_png(staging, seed=len(name))
        os.chown(staging, *owner)
        target = self.data / "in" / name
        staging.replace(target)
        return target

    def videos(self) -> list[Path]:
        out = self.data / "out"
        return sorted(out.glob("*.mp4")) if out.is_dir() else []

    def wait_video(self, timeout_s: float = 90) -> Path:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            made = self.videos()
            if made and made[0].with_suffix(".json").exists():
                return made[0]
            time.sleep(0.25)
        raise AssertionError(f"no video in {self.data / 'out'} after {timeout_s:.0f}s")


def make_site(root: Path, emulator_url: str, *, config: bool = True) -> Site:
    """/config and /data folders with, unless told otherwise, a config at /config/config.yaml —
    prepared as a person would, owned by PUID:PGID; without a config, both empty and owned by
    root, as Docker makes a missing folder."""
    site = Site(root, free_port())
    site.config.mkdir(parents=True)
    site.data.mkdir()
    if config:
        body = {
            "api": {"base_url": emulator_url},
            "state_dir": "/config/state",
            "poll_interval": "1s",
            "settle": "1s",
            "web": {"listen": f"127.0.0.1:{site.port}", "token_file": "/config/web-token"},
            "rules": [
                {
                    "name": "dance",
                    "kind": "characters",
                    "mode": "preprocessed",
                    "watch": "/data/in",
                    "output": "/data/out",
                    "scenes": [{"template": SOLO_TEMPLATE}],
                }
            ],
        }
        (site.config / "config.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
        for folder in (site.config, site.data):
            os.chown(folder, PUID, PGID)
    return site
