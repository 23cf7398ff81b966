"""The emulator's configuration: Faults and their dice, templates, and the `sim` CLI flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from viggle_watch.emulator.cli import add_sim_arguments, config_from_args
from viggle_watch.emulator.config import EmulatorConfig
from viggle_watch.emulator.faults import FaultInjector, Faults, updated_faults
from viggle_watch.emulator.templates import Template, load_templates, parse_templates
from viggle_watch.errors import ConfigError

FLAGS = (
    "--latency-jitter",
    "--request-delay",
    "--asset-delay",
    "--balance",
    "--rate-429",
    "--retry-after",
    "--rate-5xx",
    "--rate-drop",
    "--rate-truncate",
    "--ignore-range",
    "--cdn-expiry",
    "--rate-fail",
    "--fast-unavailable",
    "--legacy",
    "--templates",
    "--seed",
)


@pytest.mark.parametrize(
    "fields",
    [
        {"rate_429": -0.1},
        {"rate_5xx": 1.5},
        {"rate_429": 0.6, "rate_5xx": 0.6},
        {"request_delay_s": -1.0},
        {"cdn_expiry_s": -5.0},
    ],
)
def test_faults_refuse_impossible_values(fields: dict[str, float]) -> None:
    """Rates outside [0, 1] (or 429 + 5xx above 1) and negative seconds are ConfigError."""
    with pytest.raises(ConfigError):
        Faults(**fields)  # type: ignore[arg-type]


def test_updated_faults_merges_json_fields() -> None:
    """Only the given fields change; ints become floats; null clears an optional field."""
    merged = updated_faults(Faults(cdn_expiry_s=9.0), {"rate_429": 1, "cdn_expiry_s": None})
    assert merged == Faults(rate_429=1.0)
    for bad in ({"nope": 1}, {"legacy": 1}, {"rate_429": "0.5"}, {"render_failure_code": ""}):
        with pytest.raises(ConfigError):
            updated_faults(Faults(), bad)


def test_no_faults_draw_no_randomness() -> None:
    """With the defaults nothing is injected and the dice are never rolled."""
    injector = FaultInjector(Faults(), seed=1)
    decisions = [
        injector.gateway_error(),
        injector.drop_after_read(),
        injector.truncate_download(),
        injector.render_fails(),
        injector.render_latency_s(3.0),
    ]
    assert decisions == [None, False, False, False, 3.0]
    fresh = FaultInjector(Faults(rate_render_failure=0.5), seed=1)
    injector.set(Faults(rate_render_failure=0.5))
    assert [injector.render_fails() for _ in range(10)] == [fresh.render_fails() for _ in range(10)]


def test_dice_are_seeded_and_reseedable() -> None:
    """The same seed gives the same faults; reseed() starts the sequence over."""
    faults = Faults(rate_429=0.2, rate_5xx=0.3, latency_jitter_s=2.0)
    first, second = FaultInjector(faults, seed=7), FaultInjector(faults, seed=7)
    sequence = [first.gateway_error() for _ in range(50)]
    assert sequence == [second.gateway_error() for _ in range(50)]
    assert {None, 429} <= set(sequence) and set(sequence) <= {None, 429, 500, 502, 503}
    first.reseed()
    assert [first.gateway_error() for _ in range(50)] == sequence
    latencies = [first.render_latency_s(10.0) for _ in range(50)]
    assert all(8.0 <= value <= 12.0 for value in latencies) and len(set(latencies)) > 1


def test_packaged_templates_have_one_single_and_two_multi_person() -> None:
    """The shipped table: a video template and templates with 2 and 3 person segments."""
    table = load_templates()
    assert sorted(len(t.segments) for t in table.values()) == [0, 2, 3]
    duo = table["770e8400-e29b-41d4-a716-446655440000"]
    assert duo == Template(
        template_id="770e8400-e29b-41d4-a716-446655440000",
        name="Group Dance Duo",
        duration_s=6.0,
        fps=30.0,
        width=1280,
        height=720,
        model="V4_Preview",
        segments=("person_a1b2c3d4", "person_e5f6a7b8"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "top-level 'templates'"),
        ("templates: [{id: a, model: V4_Preview}]", "name must be"),
        (
            "templates: [{id: a, name: A, duration_seconds: 1, fps: 1, width: 1, height: 1,"
            " model: V5}]",
            "model",
        ),
        (
            "templates: [{id: a, name: A, duration_seconds: 1, fps: 1, width: 1, height: 1,"
            " model: V4_Preview, segments: [p, p]}]",
            "unique",
        ),
        ("templates: [", "not valid YAML"),
    ],
)
def test_bad_template_tables_are_config_errors(text: str, message: str) -> None:
    """A broken table names the file and what is wrong."""
    with pytest.raises(ConfigError, match=message):
        parse_templates(text, "t.yaml")


def test_missing_templates_file_is_a_config_error(tmp_path: Path) -> None:
    """A templates_path that cannot be read is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="cannot read templates file"):
        load_templates(tmp_path / "missing.yaml")


def sim_parser() -> argparse.ArgumentParser:
    """A parser like cli.py's `sim`: its own --latency and --key, then ours."""
    parser = argparse.ArgumentParser(prog="sim")
    parser.add_argument("--latency", type=float, default=3.0)
    parser.add_argument("--key", action="append", default=None)
    add_sim_arguments(parser)
    return parser


def test_sim_help_documents_every_flag() -> None:
    """Every fault and knob has a flag with help text."""
    text = sim_parser().format_help()
    assert [flag for flag in FLAGS if flag not in text] == []


def test_default_flags_make_the_default_config() -> None:
    """No flags: the defaults of EmulatorConfig and Faults (plus the CLI's latency)."""
    config = config_from_args(sim_parser().parse_args([]))
    expected = EmulatorConfig(latency_s=3.0)
    assert (config.faults, config.balance, config.asset_delay_s, config.seed) == (
        Faults(),
        expected.balance,
        expected.asset_delay_s,
        0,
    )
    assert (config.keys, config.templates_path) == (None, None)


def test_flags_become_faults() -> None:
    """Each flag lands in its field."""
    args = sim_parser().parse_args(
        [
            *("--latency", "5", "--key", "sk-a", "--key", "sk-b", "--balance", "50"),
            *("--latency-jitter", "1", "--request-delay", "0.5", "--asset-delay", "2"),
            *("--rate-429", "0.1", "--retry-after", "3", "--rate-5xx", "0.2"),
            *("--rate-drop", "0.3", "--rate-truncate", "0.4", "--rate-fail", "0.5"),
            *("--ignore-range", "--cdn-expiry", "30", "--fast-unavailable", "--legacy"),
            *("--templates", "t.yaml", "--seed", "9"),
        ]
    )
    config = config_from_args(args)
    assert config.faults == Faults(
        latency_jitter_s=1.0,
        request_delay_s=0.5,
        rate_429=0.1,
        retry_after_s=3.0,
        rate_5xx=0.2,
        rate_drop_after_read=0.3,
        rate_truncate_download=0.4,
        ignore_range=True,
        cdn_expiry_s=30.0,
        rate_render_failure=0.5,
        fast_unavailable=True,
        legacy=True,
    )
    settings = (config.latency_s, config.keys, config.balance, config.asset_delay_s)
    assert settings == (5.0, frozenset({"sk-a", "sk-b"}), 50.0, 2.0)
    assert (config.templates_path, config.seed) == (Path("t.yaml"), 9)


def test_bad_flag_values_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A share above 1 is a usage error; 429 + 5xx above 1 is a ConfigError."""
    with pytest.raises(SystemExit):
        sim_parser().parse_args(["--rate-429", "1.5"])
    assert "not between 0 and 1" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        config_from_args(sim_parser().parse_args(["--rate-429", "0.7", "--rate-5xx", "0.7"]))
