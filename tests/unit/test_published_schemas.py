"""The published JSON Schemas (issue 15): generated from the models that read the config, rule
files and manifests, and from the model of the sidecar; checked in under docs/schemas/. Stale
files fail here (regenerate: `python -m viggle_watch.app.contracts docs/schemas`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from viggle_watch.app.contracts import MAKERS, file_name, schema_text

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_the_checked_in_schema_is_current(name: str) -> None:
    checked_in = (FOLDER / file_name(name)).read_text(encoding="utf-8")
    assert checked_in == schema_text(name), f"stale: regenerate {file_name(name)}"
    assert json.loads(checked_in)["x-version"] >= 1


def test_durations_may_be_written_as_words_in_the_config_schema() -> None:
    settle = json.loads(schema_text("config"))["properties"]["settle"]
    assert {"type": "string"} in settle["anyOf"]
