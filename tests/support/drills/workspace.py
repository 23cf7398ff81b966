"""A drill's setup: distinct real media, its rules and config file, its settings."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import yaml

from viggle_watch.media.synth import make_character_png, make_driving_mp4

KEY: Final = "sk-drill-0123456789abcdef"


def make_images(folder: Path, count: int, *, seed: int, prefix: str = "hero") -> list[Path]:
    """``count`` distinct real PNG characters in ``folder`` (distinct seeds, distinct bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_character_png(folder / f"{prefix}{i:04d}.png", seed=seed * 100_000 + i)
        for i in range(count)
    ]


def make_scenes(
    folder: Path, count: int, *, seed: int, prefix: str = "scene", seconds: float = 1.0
) -> list[Path]:
    """``count`` distinct real driving videos in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_driving_mp4(folder / f"{prefix}{i}.mp4", seconds=seconds, seed=seed * 1000 + i)
        for i in range(count)
    ]


def characters_rule(
    name: str, watch: Path, output: Path, scenes: Iterable[Path], **extra: object
) -> dict[str, Any]:
    """A ``characters`` rule: every image in ``watch`` against every scene."""
    rule: dict[str, Any] = {
        "name": name,
        "kind": "characters",
        "watch": str(watch),
        "output": str(output),
        "scenes": [{"video": str(s)} for s in scenes],
    }
    rule.update(extra)
    return rule


def write_config(root: Path, url: str, rules: list[dict[str, Any]], **settings: object) -> Path:
    """``root/config.yaml`` for the emulator at ``url``: short intervals, no rate limit to speak
    of (the drills measure the service, not the politeness), the store in ``root/state``."""
    doc: dict[str, Any] = {
        "api": {"base_url": url},
        "state_dir": str(root / "state"),
        "poll_interval": "200ms",
        "settle": "200ms",
        "incomplete_grace": "0s",
        "rate_limit": 1000,
        "max_concurrent_renders": 8,
        "rules": rules,
    }
    doc.update(settings)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def state_db(root: Path) -> Path:
    return root / "state" / "state.db"


def with_overrides(settings: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the scripts' command-line overrides (None: keep)."""
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})


def drill_parser(
    description: str | None, defaults: Any, deadline: str = "seconds"
) -> argparse.ArgumentParser:
    """A drill script's command line with --jobs, --deadline and --seed; left out, each keeps
    the value in ``defaults`` (see :func:`drill_settings`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--jobs", type=int, help=f"default {defaults.jobs}")
    parser.add_argument(
        "--deadline", type=float, help=f"{deadline} (default {defaults.deadline_s:g})"
    )
    parser.add_argument("--seed", type=int, help=f"default {defaults.seed}")
    return parser


def drill_settings(defaults: Any, args: argparse.Namespace, **changes: Any) -> Any:
    """``defaults`` with :func:`drill_parser`'s --jobs, --deadline and --seed and ``changes``
    given on the command line (None: keep)."""
    common = {"jobs": args.jobs, "deadline_s": args.deadline, "seed": args.seed}
    return with_overrides(defaults, **common, **changes)
