"""The YAML config and rule files, validated by pydantic; errors name file, line and field."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from viggle_watch.apikey import ApiKey, key_from_text
from viggle_watch.config.kinds import RULE_KINDS, Rule, parse_rule
from viggle_watch.config.models import Config
from viggle_watch.errors import ConfigError
from viggle_watch.reading import read_regular

MAX_CONFIG_BYTES: Final = 1024 * 1024
CREDENTIAL_NAME: Final = "viggle_api_key"
MAX_KEY_FILE_BYTES: Final = 4096
KEY_FD_VAR: Final = "VIGGLE_WATCH_KEY_FD"  # the pipe `run` hands VIGGLE_API_KEY over through
KEY_FILE_VAR: Final = "VIGGLE_API_KEY_FILE"  # a file holding the key (Docker/Compose secrets)


def yaml_problem(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line of a YAML error and what is wrong, in words (PyYAML's own text names an
    internal ``"<unicode string>"`` and repeats the line in a second block)."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return None, str(exc).replace('in "<unicode string>", ', "")
    mark = exc.problem_mark
    text = f"column {mark.column + 1}: {exc.problem or 'not valid here'}"
    if exc.context:
        started = exc.context_mark
        at = f" that starts on line {started.line + 1}" if started is not None else ""
        text += f" ({exc.context}{at})"
    return mark.line + 1, text


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        raw = read_regular(path, MAX_CONFIG_BYTES, follow_links=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; refusing to parse")
    text = raw.decode("utf-8", errors="replace")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_problem(exc)
        where = f":{line}" if line is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from exc
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    twice = _repeated_key(node)
    if twice is not None:
        key, first, second = twice
        raise ConfigError(
            f"{path}:{second}: {key}: given twice (also on line {first}); "
            "YAML would keep only the last one silently, so it is refused"
        )
    return data, node


def _repeated_key(root: yaml.Node | None) -> tuple[str, int, int] | None:
    """The first key given twice in one mapping: (key, its first line, its second line)."""
    pending = [root] if root is not None else []
    looked: set[int] = set()  # an alias names a node again: look at each one once
    while pending:
        node = pending.pop()
        if id(node) in looked:
            continue
        looked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and key.value in lines:
                    return str(key.value), lines[key.value], line
                lines[str(key.value)] = line
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(reversed(node.value))
    return None


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
    errors = [(err, _located(tuple(err["loc"]))) for err in exc.errors()]
    missing: dict[tuple[int | str, ...], list[str]] = {}  # a mapping → the keys it lacks
    for err, loc in errors:
        if err["type"] == "missing" and loc:
            missing.setdefault(loc[:-1], []).append(str(loc[-1]))
    for err, loc in errors:
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required, and not given"
        elif err["type"] == "extra_forbidden":  # `wacth:` beside a missing `watch:`
            near = difflib.get_close_matches(str(loc[-1]), missing.get(loc[:-1], []), n=1)
            msg = f"unknown key (a typo of {near[0]}?)" if near else "unknown key (a typo?)"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "kind")
            msg = f"the rule kind must be one of {', '.join(RULE_KINDS)}"
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(node, loc[offset:])
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"{where}: {field}: {msg}")
    return "\n".join(lines)


def _located(raw: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """A rule's kind appears in pydantic's location as a tag (`rules.0.characters.model`):
    the location as written in the file has no such part."""
    return tuple(
        p
        for i, p in enumerate(raw)
        if not (p in RULE_KINDS and (i == 0 or isinstance(raw[i - 1], int)))
    )


def _load_rule_files(base: Path, rules_dir: Path) -> list[Rule]:
    if not rules_dir.is_dir():
        raise ConfigError(f"rules_dir {rules_dir} is not a folder")
    rules: list[Rule] = []
    for file in sorted(rules_dir.glob("*.yaml")):
        data, node = _read_yaml(file)
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: a rule file holds one mapping (name, kind, watch, ...)")
        try:
            rules.append(parse_rule(data, base))
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
    doc: dict[str, Any] = {**data, "source": path}
    try:
        config = Config.model_validate(doc, context={"base": base})
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
    """The key in ``file`` (None when it is missing or holds none); ``ConfigError`` saying
    what is wrong with it otherwise — never the key itself."""
    try:
        raw = read_regular(file, MAX_KEY_FILE_BYTES, follow_links=True)
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        raise ConfigError(
            f"cannot read the API key file {file}: {exc.strerror} (this service runs as uid "
            f"{os.geteuid()}, gid {os.getegid()}: the file must be readable by them)"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the API key file {file}: {exc.strerror}") from exc
    try:
        return key_from_text(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise ConfigError(f"the API key file {file}: {reason}") from None


def _key_handed_over(fd_text: str) -> ApiKey:
    """The key ``run`` handed to itself through an inherited pipe when it re-executed without
    ``VIGGLE_API_KEY`` in its environment (``cli.handoff``); read once, the pipe closed."""
    try:
        fd = int(fd_text)
        with os.fdopen(fd, "rb") as pipe:
            return ApiKey(pipe.read(MAX_KEY_FILE_BYTES).decode("utf-8"))
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{KEY_FD_VAR}: the key could not be read back ({exc})") from None
    finally:
        os.environ.pop(KEY_FD_VAR, None)


def resolve_api_key(config: Config, environ: Mapping[str, str] | None = None) -> ApiKey:
    """The key from systemd credentials, ``VIGGLE_API_KEY``, the file ``VIGGLE_API_KEY_FILE``
    names or ``api.key_file``, in that order (the two variables together are refused)."""
    env = os.environ if environ is None else environ
    creds = env.get("CREDENTIALS_DIRECTORY")
    key = _read_key(Path(creds) / CREDENTIAL_NAME) if creds else None
    if key is None and env.get(KEY_FD_VAR):
        key = _key_handed_over(env[KEY_FD_VAR])  # VIGGLE_API_KEY, through a pipe (`run`)
    if env.get("VIGGLE_API_KEY", "").strip() and env.get(KEY_FILE_VAR, "").strip():
        raise ConfigError(  # which one was meant? A forgotten one must not be sent anywhere
            f"VIGGLE_API_KEY and {KEY_FILE_VAR} are both set: keep the one you mean"
        )
    if key is None and env.get("VIGGLE_API_KEY", "").strip():
        try:
            key = ApiKey(env["VIGGLE_API_KEY"])
        except ValueError as exc:
            raise ConfigError(f"VIGGLE_API_KEY: {exc}") from None
    if key is None and env.get(KEY_FILE_VAR, "").strip():
        named_file = Path(env[KEY_FILE_VAR].strip())  # a Docker/Compose secret, most often
        key = _read_key(named_file)
        if key is None:  # named on purpose: never fall back to another key quietly
            raise ConfigError(f"{KEY_FILE_VAR}: {named_file} is missing or holds no key")
    if key is None and config.api.key_file is not None:
        key = _read_key(config.api.key_file)
    if key is None:
        named = f" ({config.api.key_file} is missing or empty)" if config.api.key_file else ""
        raise ConfigError(
            f"no API key{named}: set VIGGLE_API_KEY or {KEY_FILE_VAR}, or api.key_file in the "
            "config, or a systemd credential named viggle_api_key"
        )
    return key
