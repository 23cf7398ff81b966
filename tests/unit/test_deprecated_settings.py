"""``metrics.listen`` is deprecated (issue 18): it keeps working, with a line that says where
``/metrics`` and ``/healthz`` are now; set on the same address as ``web.listen`` it is a config
error that says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from viggle_watch.config import load_config
from viggle_watch.config.deprecated import deprecated, same_address
from viggle_watch.errors import ConfigError

RULES = """rules:
  - name: dance
    kind: characters
    watch: in/dance
    output: out/dance
    scenes:
      - video: scenes/dance.mp4"""


def config_file(tmp_path: Path, *, web: str | None, metrics: str | None) -> Path:
    path = tmp_path / "config.yaml"
    lines = ["state_dir: state", RULES]
    lines += [f'web: {{listen: "{web}"}}'] * (web is not None)
    lines += [f'metrics: {{listen: "{metrics}"}}'] * (metrics is not None)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("127.0.0.1:9108", "127.0.0.1:9108", True),
        ("127.0.0.1:9108", "127.0.0.1:8378", False),
        ("localhost:9108", "127.0.0.1:9108", True),
        ("0.0.0.0:9108", "127.0.0.1:9108", True),
        ("[::]:9108", "[::1]:9108", True),
        ("127.0.0.1:0", "127.0.0.1:0", False),  # each gets a free port of its own
        ("192.168.1.5:9108", "127.0.0.1:9108", False),
    ],
)
def test_same_address_is_what_could_not_bind_twice(a: str, b: str, same: bool) -> None:
    """Same port and the same host, a wildcard, or localhost beside a loopback address."""
    assert same_address(a, b) is same


def test_metrics_listen_alone_still_loads_and_says_where_to_move_it(tmp_path: Path) -> None:
    """Without `web`: the old setting loads; the words name the web listener to use instead."""
    config = load_config(config_file(tmp_path, web=None, metrics="127.0.0.1:9108"))
    assert config.metrics.listen == "127.0.0.1:9108"
    assert deprecated(config) == {
        "metrics.listen": "metrics.listen is deprecated: /metrics and /healthz are served on"
        ' web.listen; move the address there (web: {listen: "127.0.0.1:9108"}, the web'
        " extra); metrics.listen keeps working until then"
    }


def test_metrics_listen_beside_web_says_it_is_served_there_already(tmp_path: Path) -> None:
    """With `web` on another address: both load; the words say to remove the metrics section."""
    config = load_config(config_file(tmp_path, web="127.0.0.1:8378", metrics="127.0.0.1:9108"))
    assert deprecated(config) == {
        "metrics.listen": "metrics.listen is deprecated: /metrics and /healthz are served on"
        " web.listen; they are on 127.0.0.1:8378 already, so remove the metrics section"
    }


def test_without_metrics_listen_nothing_is_deprecated(tmp_path: Path) -> None:
    """A config without the old setting gets no line."""
    assert deprecated(load_config(config_file(tmp_path, web="127.0.0.1:8378", metrics=None))) == {}


def test_web_and_metrics_on_one_address_is_a_config_error(tmp_path: Path) -> None:
    """The second listener could not bind: refused when the config is read, saying why."""
    path = config_file(tmp_path, web="127.0.0.1:8378", metrics="localhost:8378")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (
        "web.listen '127.0.0.1:8378' and metrics.listen 'localhost:8378' are the same address:"
        " /metrics and /healthz are served on web.listen, so remove the metrics section"
        " (metrics.listen is deprecated)"
    ) in str(caught.value)
