"""Tests for viggle_watch.config.parse_duration: the durations a config may write."""

from __future__ import annotations

import pytest

from viggle_watch.config import parse_duration

# --- parse_duration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("5s", 5.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1.5m", 90.0),
        ("10", 10.0),
        (" 3 s ", 3.0),
        ("0", 0.0),
    ],
)
def test_parse_duration_reads_units(text: str, seconds: float) -> None:
    """Strings with ms/s/m/h (or no unit, meaning seconds) become seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("number", "seconds"), [(7, 7.0), (2.5, 2.5), (0, 0.0)])
def test_parse_duration_takes_bare_numbers_as_seconds(number: float, seconds: float) -> None:
    """An int or float is already a number of seconds."""
    assert parse_duration(number) == seconds


@pytest.mark.parametrize("text", ["", "fast", "5 minutes", "5d", "ms", "1,5s", "5s5", "None"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    """A string that is not a number with an optional unit is a ValueError naming it."""
    with pytest.raises(ValueError) as excinfo:
        parse_duration(text)
    assert str(excinfo.value) == f"{text!r} is not a duration such as 500ms, 5s or 2m"


def test_parse_duration_rejects_negative_numbers() -> None:
    """A negative number of seconds is refused."""
    with pytest.raises(ValueError) as excinfo:
        parse_duration(-1)
    assert str(excinfo.value) == "a duration cannot be negative"


def test_parse_duration_rejects_negative_strings() -> None:
    """A negative duration string is refused."""
    with pytest.raises(ValueError) as excinfo:
        parse_duration("-5s")
    assert str(excinfo.value) == "'-5s' is not a duration such as 500ms, 5s or 2m"


@pytest.mark.parametrize("flag", [True, False])
def test_parse_duration_rejects_bools(flag: bool) -> None:
    """YAML's yes/no are not durations, although bool is a subclass of int."""
    with pytest.raises(ValueError) as excinfo:
        parse_duration(flag)
    assert str(excinfo.value) == "a duration such as 500ms, 5s or 2m"
