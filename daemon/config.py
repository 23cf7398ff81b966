"""The YAML config and rule files, validated by pydantic; errors name file, line and field."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from daemon.apikey import ApiKey
from daemon.errors import ConfigError

DEFAULT_BASE_URL: Final = "https://apis.viggle.ai"
MAX_CONFIG_BYTES: Final = 1024 * 1024
CREDENTIAL_NAME: Final = "viggle_api_key"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: object) -> float:
    """``500ms``, ``5s``, ``2m``, ``1h`` or a bare number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration such as 500ms, 5s or 2m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 500ms, 5s or 2m")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Model = Literal["V4_Preview", "V3_Preview"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiSettings(_Strict):
    base_url: str = DEFAULT_BASE_URL
    key_file: Path | None = None
    timeout_connect: Duration = 10.0
    timeout_read: Duration = 60.0

    @model_validator(mode="after")
    def _check_url(self) -> ApiSettings:
        if not re.match(r"^https?://[^/\s]+", self.base_url):
            raise ValueError(f"base_url {self.base_url!r} must start with https:// or http://")
        return self


class SceneSpec(_Strict):
    """One scene of a rule: a driving video file, a Viggle template, or an existing scene id.

    For a multi-person template, ``segment`` names the person the dropped character plays and
    ``cast`` gives fixed character images for other segments (unmapped people stay as they are).
    """

    video: Path | None = None
    template: str | None = None
    scene_id: str | None = None
    segment: str | None = None
    cast: dict[str, Path] = {}

    @model_validator(mode="after")
    def _one_source(self) -> SceneSpec:
        given = [k for k in ("video", "template", "scene_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a scene needs exactly one of video, template or scene_id")
        if (self.segment or self.cast) and self.video is not None:
            raise ValueError("segment and cast need a multi-person template or scene_id")
        return self


class CharactersRule(_Strict):
    """Every image that settles in ``watch`` is rendered against each scene in ``scenes``."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    kind: Literal["characters"]
    watch: Path
    output: Path
    model: Model = "V4_Preview"
    mode: Literal["on_demand", "preprocessed"] = "on_demand"
    background_mode: Literal["original", "solid", "transparent"] | None = None
    bg_color: (
        Annotated[str, Field(pattern=r"^\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*$")] | None
    ) = None
    fast: bool = False
    scenes: Annotated[list[SceneSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> CharactersRule:
        if self.bg_color is not None and self.background_mode != "solid":
            raise ValueError("bg_color is only allowed with background_mode: solid")
        if self.mode == "on_demand" and any(s.video is None for s in self.scenes):
            raise ValueError("template and scene_id scenes need mode: preprocessed")
        return self


class BudgetSettings(_Strict):
    daily_credits: Annotated[float, Field(gt=0)] | None = None
    max_credits_per_job: Annotated[float, Field(gt=0)] | None = None


Rule = CharactersRule


class Config(_Strict):
    api: ApiSettings = ApiSettings()
    state_dir: Path
    poll_interval: Duration = 4.0
    settle: Duration = 5.0
    rescan_interval: Duration = 300.0
    max_concurrent_renders: Annotated[int, Field(ge=1, le=50)] = 2
    render_timeout: Duration = 1800.0
    rate_limit: Annotated[float, Field(gt=0)] = 4.0  # API requests per second, all calls
    budget: BudgetSettings = BudgetSettings()
    rules_dir: Path | None = None
    rules: list[Rule] = []
    source: Path = Path("config.yaml")

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        return self


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; refusing to parse")
    text = raw.decode("utf-8", errors="replace")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {exc}") from exc
    return data, node


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest known parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child, line = value, key.start_mark.line + 1
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _explain(exc: ValidationError, path: Path, node: yaml.Node | None, offset: int = 0) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(node, loc[offset:])
        where = f"{path}:{line}" if line else str(path)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        lines.append(f"{where}: {field}: {msg}")
    return "\n".join(lines)


def _resolve(base: Path, p: Path) -> Path:
    p = p.expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def _resolve_rule(base: Path, rule: dict[str, Any]) -> dict[str, Any]:
    out = dict(rule)
    for key in ("watch", "output"):
        if isinstance(out.get(key), str):
            out[key] = _resolve(base, Path(out[key]))
    scenes = out.get("scenes")
    if isinstance(scenes, list):
        out["scenes"] = [_resolve_scene(base, s) if isinstance(s, dict) else s for s in scenes]
    return out


def _resolve_scene(base: Path, scene: dict[str, Any]) -> dict[str, Any]:
    out = dict(scene)
    if isinstance(out.get("video"), str):
        out["video"] = _resolve(base, Path(out["video"]))
    cast = out.get("cast")
    if isinstance(cast, dict):
        out["cast"] = {
            k: _resolve(base, Path(v)) if isinstance(v, str) else v for k, v in cast.items()
        }
    return out


def _load_rule_files(base: Path, rules_dir: Path) -> list[Rule]:
    if not rules_dir.is_dir():
        raise ConfigError(f"rules_dir {rules_dir} is not a folder")
    rules: list[Rule] = []
    for file in sorted(rules_dir.glob("*.yaml")):
        data, node = _read_yaml(file)
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: a rule file holds one mapping (name, kind, watch, ...)")
        try:
            rules.append(CharactersRule.model_validate(_resolve_rule(base, data)))
        except ValidationError as exc:
            raise ConfigError(_explain(exc, file, node)) from exc
    return rules


def load_config(path: Path) -> Config:
    """Read, validate and resolve a config file and its rule files; raise ``ConfigError``."""
    path = path.expanduser().resolve()
    data, node = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys (api, state_dir, ...)")
    base = path.parent
    doc: dict[str, Any] = dict(data)
    for key in ("state_dir", "rules_dir"):
        if isinstance(doc.get(key), str):
            doc[key] = _resolve(base, Path(doc[key]))
    api = doc.get("api")
    if isinstance(api, dict) and isinstance(api.get("key_file"), str):
        doc["api"] = {**api, "key_file": _resolve(base, Path(api["key_file"]))}
    if isinstance(doc.get("rules"), list):
        doc["rules"] = [_resolve_rule(base, r) if isinstance(r, dict) else r for r in doc["rules"]]
    doc["source"] = path
    try:
        config = Config.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path, node)) from exc
    if config.rules_dir is not None:
        extra = _load_rule_files(base, config.rules_dir)
        try:
            config = config.model_copy(update={"rules": [*config.rules, *extra]})
            Config.model_validate(config.model_dump())
        except ValidationError as exc:
            raise ConfigError(_explain(exc, path, node)) from exc
    if not config.rules:
        raise ConfigError(f"{path}: no rules: add `rules:` or a `rules_dir` with rule files")
    return config


def _read_key(file: Path) -> ApiKey | None:
    try:
        text = file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the API key file {file}: {exc.strerror}") from exc
    return ApiKey(text) if text else None


def resolve_api_key(config: Config, environ: Mapping[str, str] | None = None) -> ApiKey:
    """The key from systemd credentials, ``VIGGLE_API_KEY`` or ``api.key_file``, in that order."""
    env = os.environ if environ is None else environ
    creds = env.get("CREDENTIALS_DIRECTORY")
    key = _read_key(Path(creds) / CREDENTIAL_NAME) if creds else None
    if key is None and env.get("VIGGLE_API_KEY", "").strip():
        key = ApiKey(env["VIGGLE_API_KEY"])
    if key is None and config.api.key_file is not None:
        key = _read_key(config.api.key_file)
    if key is None:
        raise ConfigError(
            "no API key: set VIGGLE_API_KEY, or api.key_file in the config, "
            "or a systemd credential named viggle_api_key"
        )
    return key
