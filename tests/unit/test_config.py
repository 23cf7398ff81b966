"""Tests for viggle_watch.config: loading YAML files, path resolution, errors that name file,
line and field, and the examples shipped in the repository. Durations: ``test_durations.py``;
the API key: ``test_api_key.py``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from viggle_watch.config import CharactersRule, Config, SceneSpec, load_config
from viggle_watch.config.load import MAX_CONFIG_BYTES
from viggle_watch.config.models import ApiSettings
from viggle_watch.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO_ROOT / "config.example.yaml"
EXAMPLE_RULES = sorted((REPO_ROOT / "rules").glob("*.yaml"))

# A rule block used by several configs; `rules:` must precede it at column 0.
RULE_YAML = """\
  - name: dance
    kind: characters
    watch: in/dance
    output: out/dance
    scenes:
      - video: scenes/dance.mp4
"""


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating folders) and return the resolved path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path.resolve()


def config_error(path: Path) -> str:
    """The message of the ConfigError that loading ``path`` raises."""
    with pytest.raises(ConfigError) as excinfo:
        load_config(path)
    return str(excinfo.value)


# --- load_config: the documented shape -----------------------------------------------------


def test_load_config_reads_the_documented_shape(tmp_path: Path) -> None:
    """Every documented key loads into the models, durations parsed, paths resolved."""
    cfg = write(
        tmp_path / "config.yaml",
        """\
        api:
          base_url: http://127.0.0.1:8000
          key_file: secrets/viggle.key
          timeout_connect: 3s
        state_dir: state
        poll_interval: 2s
        settle: 500ms
        rescan_interval: 1m
        max_concurrent_renders: 3
        rules:
          - name: dance
            kind: characters
            watch: in/dance
            output: out/dance
            model: V3_Preview
            scenes:
              - video: scenes/dance.mp4
              - video: /abs/wave.mp4
        """,
    )
    base = tmp_path.resolve()
    assert load_config(cfg) == Config(
        api=ApiSettings(
            base_url="http://127.0.0.1:8000",
            key_file=base / "secrets/viggle.key",
            timeout_connect=3.0,
        ),
        state_dir=base / "state",
        poll_interval=2.0,
        settle=0.5,
        rescan_interval=60.0,
        max_concurrent_renders=3,
        rules=[
            CharactersRule(
                name="dance",
                kind="characters",
                watch=base / "in/dance",
                output=base / "out/dance",
                model="V3_Preview",
                scenes=[
                    SceneSpec(video=base / "scenes/dance.mp4"),
                    SceneSpec(video=Path("/abs/wave.mp4")),
                ],
            )
        ],
        source=cfg,
    )


def test_load_config_fills_defaults(tmp_path: Path) -> None:
    """Keys left out take their documented defaults (V4_Preview, 4 s poll, 5 s settle ...)."""
    cfg = write(tmp_path / "config.yaml", "state_dir: /var/lib/vw\nrules:\n" + RULE_YAML)
    config = load_config(cfg)
    assert (
        config.api,
        config.poll_interval,
        config.settle,
        config.rescan_interval,
        config.max_concurrent_renders,
        config.rules_dir,
        config.rules[0].model,
    ) == (ApiSettings(), 4.0, 5.0, 300.0, 2, None, "V4_Preview")


def test_load_config_resolves_relative_paths_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative paths mean "next to the config file", whatever the working directory is."""
    cfg = write(
        tmp_path / "etc/vw/config.yaml",
        "state_dir: state\napi:\n  key_file: key.txt\nrules:\n" + RULE_YAML,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(cfg)
    base = cfg.parent
    assert (
        config.state_dir,
        config.api.key_file,
        config.rules[0].watch,
        config.rules[0].output,
        getattr(config.rules[0], "scenes", None),
    ) == (
        base / "state",
        base / "key.txt",
        base / "in/dance",
        base / "out/dance",
        [SceneSpec(video=base / "scenes/dance.mp4")],
    )


def test_load_config_resolves_paths_in_rule_files_against_the_config_folder(
    tmp_path: Path,
) -> None:
    """rules_dir is relative to the config; paths inside rule files are too (not rules_dir)."""
    cfg = write(tmp_path / "conf/config.yaml", "state_dir: state\nrules_dir: rules.d\n")
    write(
        tmp_path / "conf/rules.d/wave.yaml",
        """\
        name: wave
        kind: characters
        watch: in/wave
        output: out/wave
        scenes:
          - video: scenes/wave.mp4
        """,
    )
    base = cfg.parent
    config = load_config(cfg)
    assert (config.rules_dir, config.rules) == (
        base / "rules.d",
        [
            CharactersRule(
                name="wave",
                kind="characters",
                watch=base / "in/wave",
                output=base / "out/wave",
                scenes=[SceneSpec(video=base / "scenes/wave.mp4")],
            )
        ],
    )


def test_load_config_appends_rule_files_in_name_order(tmp_path: Path) -> None:
    """Inline rules come first, then rules_dir/*.yaml sorted by file name."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules_dir: r\nrules:\n" + RULE_YAML)
    for name in ("zeta", "alpha"):
        write(
            tmp_path / f"r/{name}.yaml",
            f"name: {name}\nkind: characters\nwatch: {name}\noutput: o\n"  # a folder each
            "scenes:\n  - video: v.mp4\n",
        )
    (tmp_path / "r/notes.txt").write_text("not a rule", encoding="utf-8")
    assert [r.name for r in load_config(cfg).rules] == ["dance", "alpha", "zeta"]


# --- load_config: errors name file, line and field ----------------------------------------


def test_unknown_key_names_file_line_and_field(tmp_path: Path) -> None:
    """A typo'd key is reported as `file:line: dotted.field: unknown key`."""
    cfg = write(
        tmp_path / "config.yaml",
        """\
        state_dir: state
        rules:
          - name: dance
            kind: characters
            watch: in
            output: out
            modle: V4_Preview
            scenes:
              - video: dance.mp4
        """,
    )
    assert config_error(cfg) == f"{cfg}:7: rules.0.modle: unknown key (a typo?)"


def test_a_typo_of_a_required_key_is_named_as_one(tmp_path: Path) -> None:
    """`wacth:` for `watch:`: the missing key in words (not pydantic's "Field required"), and
    the unknown one named as its likely typo."""
    cfg = write(
        tmp_path / "config.yaml", "state_dir: s\nrules:\n" + RULE_YAML.replace("watch", "wacth")
    )
    assert config_error(cfg).splitlines() == [
        f"{cfg}:3: rules.0.watch: required, and not given",
        f"{cfg}:5: rules.0.wacth: unknown key (a typo of watch?)",
    ]


def test_unknown_top_level_key_names_its_line(tmp_path: Path) -> None:
    """A typo at the top level points at its own line."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nsetle: 5s\nrules:\n" + RULE_YAML)
    assert config_error(cfg) == f"{cfg}:2: setle: unknown key (a typo?)"


def test_unknown_key_in_a_rule_file_names_the_rule_file(tmp_path: Path) -> None:
    """An error inside rules_dir/x.yaml names x.yaml and its line, not the main config."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules_dir: rules.d\n")
    rule = write(
        tmp_path / "rules.d/wave.yaml",
        "name: wave\nkind: characters\nwatch: i\noutput: o\nscenes:\n  - vidoe: v.mp4\n",
    )
    assert config_error(cfg) == f"{rule}:6: scenes.0.vidoe: unknown key (a typo?)"


def test_wrong_rule_kind_names_line_and_field(tmp_path: Path) -> None:
    """An unknown rule kind is reported on the kind line."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules:\n" + RULE_YAML.replace("cha", "x"))
    assert (
        config_error(cfg)
        == f"{cfg}:4: rules.0.kind: the rule kind must be one of characters, scenes, pairs, jobs"
    )


def test_bad_duration_names_line_and_field(tmp_path: Path) -> None:
    """A bad duration value is reported with the parser's message."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nsettle: soon\nrules:\n" + RULE_YAML)
    expected = f"{cfg}:2: settle: 'soon' is not a duration such as 500ms, 5s or 2m"
    assert config_error(cfg) == expected


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    """A YAML syntax error is a ConfigError that starts with file:line."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules:\n  - name: a\n   kind: b\n")
    message = config_error(cfg)
    assert message.split(": not valid YAML: ")[0] == f"{cfg}:4"


def test_a_yaml_error_is_said_in_one_line_without_pyyamls_internals(tmp_path: Path) -> None:
    """Where the problem is, what it is, and where the construct began: no "<unicode
    string>", no second copy of the line."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules:\n  - name: [x\n")
    assert config_error(cfg) == (
        f"{cfg}:4: not valid YAML: column 1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence that starts on line 3)"
    )


def test_duplicate_rule_names_are_refused(tmp_path: Path) -> None:
    """Two rules with one name are an error naming the repeated name."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules:\n" + RULE_YAML + RULE_YAML)
    expected = f"{cfg}:1: (top level): rule names must be unique; repeated: dance"
    assert config_error(cfg) == expected


def test_duplicate_rule_names_across_rule_files_are_refused(tmp_path: Path) -> None:
    """A rule file may not reuse the name of an inline rule."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules_dir: r\nrules:\n" + RULE_YAML)
    write(
        tmp_path / "r/dance.yaml",
        "name: dance\nkind: characters\nwatch: i\noutput: o\nscenes:\n  - video: v.mp4\n",
    )
    expected = f"{cfg}:1: (top level): rule names must be unique; repeated: dance"
    assert config_error(cfg) == expected


def test_no_rules_is_an_error(tmp_path: Path) -> None:
    """A config without rules would watch nothing: refused with a hint."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\n")
    expected = f"{cfg}: no rules: add `rules:` or a `rules_dir` with rule files"
    assert config_error(cfg) == expected


def test_missing_rules_dir_is_an_error(tmp_path: Path) -> None:
    """A rules_dir that is not a folder is named in the error."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\nrules_dir: nowhere\n")
    assert config_error(cfg) == f"rules_dir {cfg.parent / 'nowhere'} is not a folder"


def test_config_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    """A list (or empty file) at the top level is refused."""
    cfg = write(tmp_path / "config.yaml", "- a\n- b\n")
    expected = f"{cfg}: the config must be a mapping of keys (api, state_dir, ...)"
    assert config_error(cfg) == expected


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    """An unreadable config file is a ConfigError, not an OSError."""
    cfg = tmp_path.resolve() / "absent.yaml"
    assert config_error(cfg) == f"{cfg}: cannot read: No such file or directory"


def test_oversized_config_is_refused(tmp_path: Path) -> None:
    """A file over 1 MiB is not parsed at all."""
    cfg = write(tmp_path / "config.yaml", "state_dir: s\n# " + "x" * MAX_CONFIG_BYTES + "\n")
    expected = f"{cfg}: larger than {MAX_CONFIG_BYTES} bytes; refusing to parse"
    assert config_error(cfg) == expected


@pytest.mark.timeout(10)
def test_yaml_alias_bomb_does_not_hang(tmp_path: Path) -> None:
    """Nested aliases ("billion laughs", kept small) give a prompt error, not a hang."""
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 7):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        levels.append(f"a{i}: &a{i} [{refs}]")
    cfg = write(tmp_path / "config.yaml", "\n".join(levels) + "\nstate_dir: s\n")
    assert config_error(cfg) == "\n".join(
        f"{cfg}:{i + 1}: a{i}: unknown key (a typo?)" for i in range(7)
    )


# --- the examples shipped in the repository stay loadable ----------------------------------


@pytest.mark.skipif(
    not EXAMPLE_CONFIG.exists(), reason="config.example.yaml not written yet (another engineer)"
)
def test_example_config_loads() -> None:
    """config.example.yaml at the repository root is a valid config with rules."""
    config = load_config(EXAMPLE_CONFIG)
    assert (config.source, config.rules != []) == (EXAMPLE_CONFIG, True)


@pytest.mark.skipif(not EXAMPLE_RULES, reason="no rules/*.yaml written yet (another engineer)")
@pytest.mark.parametrize("rule_file", EXAMPLE_RULES, ids=lambda p: p.name)
def test_example_rule_file_loads(tmp_path: Path, rule_file: Path) -> None:
    """Each rules/*.yaml loads as the only file of a rules_dir."""
    rules_dir = tmp_path / "rules.d"
    rules_dir.mkdir()
    (rules_dir / rule_file.name).write_bytes(rule_file.read_bytes())
    cfg = write(tmp_path / "config.yaml", "state_dir: state\nrules_dir: rules.d\n")
    data = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
    assert [(r.name, r.kind) for r in load_config(cfg).rules] == [(data["name"], data["kind"])]


@pytest.mark.parametrize(
    ("listen", "said"),
    [
        ("0.0.0.0:9108", "is not a loopback address"),
        ("metrics.studio.lan:9108", "is not a loopback address"),
        ("127.0.0.1", "must be host:port"),
    ],
)
def test_a_metrics_listener_run_would_refuse_is_refused_by_the_config(
    tmp_path: Path, listen: str, said: str
) -> None:
    """One validator: what `check-config` accepts is what `run` binds (issue 14 §21)."""
    text = f"state_dir: s\nmetrics:\n  listen: '{listen}'\nrules:\n" + RULE_YAML
    cfg = write(tmp_path / "config.yaml", text)
    message = config_error(cfg)
    assert message.startswith(f"{cfg}:3: metrics.listen: ") and said in message
