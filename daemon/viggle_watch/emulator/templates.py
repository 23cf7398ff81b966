"""The emulator's template table: what ``POST /api/scenes/import`` can import.

The packaged ``templates.yaml`` (read with :mod:`importlib.resources`) holds one single-person
"video" template and two multi-person templates; ``EmulatorConfig.templates_path`` points at
another file with the same layout.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from viggle_watch.errors import ConfigError

MODELS: Final = frozenset({"V4_Preview", "V3_Preview"})
MAX_TEMPLATES_BYTES: Final = 1024 * 1024
_PACKAGED: Final = "templates.yaml"


@dataclass(frozen=True, slots=True)
class Template:
    """One importable template; ``segments`` is empty for a single-person video template."""

    template_id: str
    name: str
    duration_s: float
    fps: float
    width: int
    height: int
    model: str
    segments: tuple[str, ...]


def _number(entry: Mapping[str, object], name: str, where: str) -> float:
    value = entry.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{where}: {name} must be a positive number")
    return float(value)


def _text(entry: Mapping[str, object], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {name} must be a non-empty string")
    return value


def _template(entry: object, where: str) -> Template:
    """Build one template from its YAML mapping; raise ConfigError naming ``where``."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: a template must be a mapping")
    segments = entry.get("segments", [])
    if not isinstance(segments, list) or not all(isinstance(s, str) and s for s in segments):
        raise ConfigError(f"{where}: segments must be a list of segment ids")
    if len(set(segments)) != len(segments):
        raise ConfigError(f"{where}: segment ids must be unique")
    model = _text(entry, "model", where)
    if model not in MODELS:
        raise ConfigError(f"{where}: model must be one of {sorted(MODELS)}")
    return Template(
        template_id=_text(entry, "id", where),
        name=_text(entry, "name", where),
        duration_s=_number(entry, "duration_seconds", where),
        fps=_number(entry, "fps", where),
        width=int(_number(entry, "width", where)),
        height=int(_number(entry, "height", where)),
        model=model,
        segments=tuple(segments),
    )


def parse_templates(text: str, source: str) -> dict[str, Template]:
    """Parse a template table (YAML); return it by template id. Raises ConfigError."""
    if len(text) > MAX_TEMPLATES_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_TEMPLATES_BYTES} bytes")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({exc})") from exc
    entries = doc.get("templates") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: expected a top-level 'templates' list")
    table: dict[str, Template] = {}
    for index, entry in enumerate(entries):
        template = _template(entry, f"{source}: templates.{index}")
        if template.template_id in table:
            raise ConfigError(f"{source}: duplicate template id {template.template_id}")
        table[template.template_id] = template
    return table


def load_templates(path: Path | None = None) -> dict[str, Template]:
    """Load the template table from ``path``, or the packaged one when ``path`` is None."""
    if path is None:
        resource = importlib.resources.files("viggle_watch.emulator").joinpath(_PACKAGED)
        return parse_templates(resource.read_text(encoding="utf-8"), _PACKAGED)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read templates file {path}: {exc.strerror}") from exc
    return parse_templates(text, str(path))
