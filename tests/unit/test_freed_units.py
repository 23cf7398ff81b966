"""A dead host's released input claims → what the survivor settles again (issue 19 §5)."""

from __future__ import annotations

from pathlib import Path

from viggle_watch.config import load_config
from viggle_watch.intake.freed import freed_units

CONFIG = """
api: {base_url: "http://127.0.0.1:1"}
state_dir: state
rules:
  - {name: chars, kind: characters, watch: /in/chars, output: /out/chars,
     scenes: [{video: /assets/dance.mp4}]}
  - {name: pairs, kind: pairs, watch: /in/pairs, output: /out/pairs}
"""


def test_each_claim_is_its_unit_and_a_pair_key_both_partners(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    rules = load_config(tmp_path / "config.yaml").rules
    folders = {Path("/in/pairs"): ["hero.png", "hero.mp4", "hero.txt", ".hero.png", "zed.png"]}
    keys = ["/in/chars/a.png", "/in/pairs/hero.pair", "/elsewhere/b.png", "/in/chars/a.png"]
    units = freed_units(keys, rules, lambda folder: folders.get(folder, []))
    assert units == [
        Path("/in/chars/a.png"),
        Path("/in/pairs/hero.mp4"),
        Path("/in/pairs/hero.png"),
    ]
