"""Config files mean what they say: a key given twice is refused with both lines, and every
relative path (a webhook's secret_file too) starts at the config file's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from viggle_watch.app.settings import check_paths
from viggle_watch.config import load_config
from viggle_watch.errors import ConfigError
from viggle_watch.media.synth import make_driving_mp4

RULE = {
    "name": "dance",
    "kind": "characters",
    "watch": "in",
    "output": "out",
    "scenes": [{"video": "assets/dance.mp4"}],
    "on_done": {"webhook": {"url": "http://127.0.0.1:9/hook", "secret_file": "secrets/hook"}},
}


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    """`settle` twice: YAML would keep the last silently; the error names lines 2 and 4."""
    path = tmp_path / "config.yaml"
    path.write_text("state_dir: s\nsettle: 1s\nrules: []\nsettle: 9s\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:4: settle: given twice (also on line 2)")


def test_a_key_twice_inside_a_rule_is_refused_too(tmp_path: Path) -> None:
    """Nested mappings are checked as well (a rule's `watch` written twice)."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "state_dir: s\nrules:\n  - name: a\n    watch: in\n    watch: other\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r":5: watch: given twice \(also on line 4\)"):
        load_config(path)


def test_relative_paths_start_at_the_config_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loaded from elsewhere (systemd starts in /), every path lands beside the config."""
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "config.yaml"
    doc = {"state_dir": "state", "api": {"key_file": "key"}, "rules": [RULE]}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    monkeypatch.chdir("/")
    config = load_config(path)
    rule = config.rules[0]
    hook = rule.on_done.webhook if rule.on_done is not None else None
    assert (
        config.state_dir,
        config.api.key_file,
        rule.watch,
        rule.scenes[0].video if hasattr(rule, "scenes") else None,
        hook.secret_file if hook is not None else None,
        Path.cwd(),
    ) == (
        folder / "state",
        folder / "key",
        folder / "in",
        folder / "assets" / "dance.mp4",
        folder / "secrets" / "hook",
        Path("/"),
    )


def test_a_webhook_secret_file_that_cannot_be_read_stops_the_start(tmp_path: Path) -> None:
    """`run` and `check-config` refuse a hook whose secret file is not there to read."""
    for folder in ("in", "assets"):
        (tmp_path / folder).mkdir()
    make_driving_mp4(tmp_path / "assets" / "dance.mp4")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"state_dir": "state", "rules": [RULE]}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"the webhook secret_file .*secrets/hook is unreadable"):
        check_paths(load_config(path))
