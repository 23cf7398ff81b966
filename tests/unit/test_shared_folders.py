"""Two rules on one folder: refused when both would want the same files (the second would
never see them), allowed when their file types do not overlap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from viggle_watch.config import load_config
from viggle_watch.errors import ConfigError

KINDS: dict[str, dict[str, Any]] = {
    "characters": {"scenes": [{"video": "dance.mp4"}]},
    "scenes": {"characters": ["hero.png"]},
    "pairs": {},
    "jobs": {},
}


def write(tmp_path: Path, *kinds: str) -> Path:
    rules = [
        {"name": f"r{i}-{kind}", "kind": kind, "watch": "in", "output": f"out{i}", **KINDS[kind]}
        for i, kind in enumerate(kinds)
    ]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"state_dir": "state", "rules": rules}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("a", "b", "what"),
    [
        ("characters", "characters", "images"),
        ("characters", "pairs", "images"),
        ("scenes", "pairs", "videos"),
        ("jobs", "characters", "images"),
    ],
)
def test_rules_that_want_the_same_files_may_not_share_a_folder(
    tmp_path: Path, a: str, b: str, what: str
) -> None:
    """The error names both rules, the folder and what they would both take."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, a, b))
    message = str(caught.value)
    assert (f"r0-{a}" in message, f"r1-{b}" in message, str(tmp_path / "in") in message) == (
        True,
        True,
        True,
    )
    assert f"both take its {what}" in message


def test_images_and_videos_rules_may_share_a_folder(tmp_path: Path) -> None:
    """A characters rule (images) and a scenes rule (videos) split one folder between them."""
    config = load_config(write(tmp_path, "characters", "scenes"))
    assert [r.kind for r in config.rules] == ["characters", "scenes"]
