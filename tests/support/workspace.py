"""Workspaces and config files for the service tests: ``in/``, ``out/``, a real driving video,
and a factory of configs with short intervals."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from viggle_watch.cli.demo import Workspace as DemoWorkspace
from viggle_watch.config import Config, load_config
from viggle_watch.media.synth import make_character_png, make_driving_mp4

KEY = "sk-test-0123456789abcdef"


def drop(path: Path, data: bytes, *, chunks: int = 1, pause_s: float = 0.0) -> float:
    """Write ``data`` to ``path`` in ``chunks`` parts, pausing between them (a slow copy).

    Returns ``time.time()`` right after the last byte was written.
    """
    size = max(1, -(-len(data) // chunks))
    with path.open("wb") as f:
        for i in range(0, len(data), size):
            if i:
                time.sleep(pause_s)
            f.write(data[i : i + size])
            f.flush()
    return time.time()


class Workspace(DemoWorkspace):
    """The demo's layout (``in/``, ``out/``, ``assets/dance.mp4``), with test characters."""

    def character(self, name: str = "alice.png", seed: int = 1) -> bytes:
        """Bytes of a real PNG character (written outside the watch folder first)."""
        staging = self.root / f"staging-{seed}.png"
        make_character_png(staging, seed=seed)
        data = staging.read_bytes()
        staging.unlink()
        return data


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """in/, out/ and a real 1-second driving video in assets/."""
    ws = Workspace(tmp_path / "ws")
    for folder in (ws.watch, ws.output, ws.scene.parent):
        folder.mkdir(parents=True)
    make_driving_mp4(ws.scene, seconds=1.0)
    return ws


MakeConfig = Callable[..., Config]


def dance_rule(**overrides: Any) -> dict[str, Any]:
    """The workspace's rule: characters dropped in ``in/`` dance ``assets/dance.mp4`` into
    ``out/``; ``overrides`` set or replace its fields."""
    return {
        "name": "dance",
        "kind": "characters",
        "watch": "in",
        "output": "out",
        "scenes": [{"video": "assets/dance.mp4"}],
        **overrides,
    }


@pytest.fixture
def make_config(workspace: Workspace) -> MakeConfig:
    """Factory: a config file for ``workspace`` with short intervals, written and loaded."""

    def factory(base_url: str, **overrides: Any) -> Config:
        doc: dict[str, Any] = {
            "api": {"base_url": base_url},
            "state_dir": "state",
            "poll_interval": "200ms",
            "settle": "500ms",
            "incomplete_grace": "0s",  # tests file a cut-off file at once unless they say
            "rules": [dance_rule(model="V4_Preview")],
        }
        doc.update(overrides)
        path = workspace.root / "config.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        return load_config(path)

    return factory
