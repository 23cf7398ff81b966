"""The config: the rule kinds (``kinds``), the settings that hold them (``models``), and the
loader that reads YAML and names file, line and field in every error (``load``)."""

from viggle_watch.config.kinds import (
    CharactersRule,
    JobsRule,
    Manifest,
    PairsRule,
    Rule,
    SceneSpec,
    ScenesRule,
    parse_duration,
)
from viggle_watch.config.load import load_config, resolve_api_key
from viggle_watch.config.models import Config

__all__ = [
    "CharactersRule",
    "Config",
    "JobsRule",
    "Manifest",
    "PairsRule",
    "Rule",
    "SceneSpec",
    "ScenesRule",
    "load_config",
    "parse_duration",
    "resolve_api_key",
]
