"""Faults.broken_output as a value: validated on construction and on /_sim/faults merges, and
set by the ``sim --broken-output`` flag."""

from __future__ import annotations

import argparse

import pytest

from viggle_watch.emulator.cli import add_sim_arguments, config_from_args
from viggle_watch.emulator.faults import BROKEN_OUTPUTS, Faults, updated_faults
from viggle_watch.errors import ConfigError


def sim_parser() -> argparse.ArgumentParser:
    """A parser like cli.py's `sim`: its own --latency and --key, then ours."""
    parser = argparse.ArgumentParser(prog="sim")
    parser.add_argument("--latency", type=float, default=3.0)
    parser.add_argument("--key", action="append", default=None)
    add_sim_arguments(parser)
    return parser


def test_the_kinds() -> None:
    """The values a test can ask for, "none" (the default) first."""
    assert BROKEN_OUTPUTS == (
        "none",
        "truncated",
        "black",
        "frozen",
        "short",
        "empty_mask",
        "full_mask",
    )
    assert Faults().broken_output == "none"


def test_an_unknown_kind_is_a_config_error() -> None:
    """Constructing or merging an unknown kind fails with the allowed values in the message."""
    with pytest.raises(ConfigError, match="not one of none, truncated"):
        Faults(broken_output="melted")
    for bad in ("melted", 2, None, ""):
        with pytest.raises(ConfigError, match="broken_output"):
            updated_faults(Faults(), {"broken_output": bad})


def test_updated_faults_sets_a_kind() -> None:
    """A merge sets the kind and leaves the other faults as they were."""
    merged = updated_faults(Faults(rate_429=0.5), {"broken_output": "short"})
    assert merged == Faults(rate_429=0.5, broken_output="short")


@pytest.mark.parametrize("kind", BROKEN_OUTPUTS)
def test_flag_sets_the_kind(kind: str) -> None:
    """--broken-output KIND lands in Faults.broken_output; no flag leaves it "none"."""
    config = config_from_args(sim_parser().parse_args(["--broken-output", kind]))
    assert config.faults == Faults(broken_output=kind)
    assert config_from_args(sim_parser().parse_args([])).faults.broken_output == "none"


def test_flag_refuses_other_values(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown kind is a usage error listing the choices; --help documents the flag."""
    with pytest.raises(SystemExit):
        sim_parser().parse_args(["--broken-output", "melted"])
    assert "{none,truncated,black,frozen,short,empty_mask,full_mask}" in capsys.readouterr().err
    assert "--broken-output" in sim_parser().format_help()
