"""The documents viggle-watch publishes, as JSON Schemas generated from the models that read or
describe them, checked in under ``docs/schemas/`` (a test fails when one is stale; regenerate
with ``python -m viggle_watch.app.contracts docs/schemas``). The compatibility promise is in
``docs/schemas.md``: additive changes keep a schema's version; a removal or a change of meaning
bumps it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from pydantic import TypeAdapter

from viggle_watch.config import Config, Rule
from viggle_watch.config.kinds import Manifest
from viggle_watch.outputs.documents import HookBody, JobDetail, Sidecar, Status

VERSIONS: Final = {
    "config": 1,
    "rule": 1,
    "manifest": 1,
    "sidecar": 1,
    "status": 1,
    "job": 1,
    "webhook-failed": 1,
}
MAKERS: Final[dict[str, Callable[[], dict[str, Any]]]] = {
    "config": lambda: Config.model_json_schema(mode="validation"),
    "rule": lambda: TypeAdapter(Rule).json_schema(mode="validation"),
    "manifest": lambda: Manifest.model_json_schema(mode="validation"),
    "sidecar": lambda: Sidecar.model_json_schema(mode="serialization"),
    "status": lambda: Status.model_json_schema(mode="serialization"),
    "job": lambda: JobDetail.model_json_schema(mode="serialization"),
    "webhook-failed": lambda: HookBody.model_json_schema(mode="serialization"),
}


def schema_text(name: str) -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"viggle-watch {name}",
        "x-version": VERSIONS[name],
        **MAKERS[name](),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def file_name(name: str) -> str:
    return f"{name}.schema.json"


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in MAKERS:
        path = folder / file_name(name)
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
