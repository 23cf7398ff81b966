"""`check-config` shows each rule's resolved settings as a person reads them: one YAML line a
setting, the unset ones named together, and never a webhook's token (it printed one long JSON
object with the URL as written)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tests.support.workspace import MakeConfig, dance_rule
from viggle_watch.cli.config import print_check, rule_lines


def test_rule_lines_are_one_setting_a_line_then_what_is_unset() -> None:
    details = {
        "model": "V4_Preview",
        "fast": False,
        "deliver": ["mp4", "sidecar"],
        "scenes": [{"template": "hiphop", "video": None, "cast": {}}],
        "bg_color": None,
        "on_done": None,
    }
    assert rule_lines(details) == [
        "deliver: [mp4, sidecar]",
        "fast: false",
        "model: V4_Preview",
        "scenes:",
        "- {template: hiphop}",
        "unset (the default applies): bg_color, on_done",
    ]


def test_check_config_prints_the_rule_readably_without_a_hooks_token(
    make_config: MakeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIGGLE_API_KEY", raising=False)
    hook = {"webhook": {"url": "https://hooks.example.org/done?token=s3cr3t-t0ken"}}
    config = make_config("http://127.0.0.1:9", rules=[dance_rule(on_done=hook)])
    out = io.StringIO()
    print_check(config, Console(file=out, width=300, soft_wrap=True))
    text = out.getvalue()
    assert "s3cr3t-t0ken" not in text
    rule = text.split("dance (characters):", 1)[1].splitlines()[1:]
    assert "    model: V4_Preview" in rule and "    naming: '{character}__{scene}'" in rule
    at = rule.index("    on_done:")
    assert (
        rule[at + 1].startswith("      webhook: {attempts: 5,")
        and "hooks.example.org" in rule[at + 1]
    )
    assert not any(line.lstrip().startswith('{"') for line in rule)  # no JSON object line
