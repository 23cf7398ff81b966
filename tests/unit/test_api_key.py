"""Tests for the API key: where resolve_api_key finds it (systemd credentials, the variable, a key
file), and ApiKey, which never shows it (repr, str, pickling, copying)."""

from __future__ import annotations

import copy
import os
import pickle
from pathlib import Path

import pytest

from viggle_watch.apikey import ApiKey
from viggle_watch.config import Config, resolve_api_key
from viggle_watch.config.models import ApiSettings
from viggle_watch.errors import ConfigError

# --- the API key ---------------------------------------------------------------------------


def key_config(tmp_path: Path, key_text: str | None) -> Config:
    """A Config whose api.key_file holds ``key_text`` (or does not exist when None)."""
    key_file = tmp_path / "key.txt"
    if key_text is not None:
        key_file.write_text(key_text, encoding="utf-8")
    return Config(state_dir=tmp_path, api=ApiSettings(key_file=key_file))


def credentials_dir(tmp_path: Path, key_text: str) -> str:
    """A systemd $CREDENTIALS_DIRECTORY holding viggle_api_key."""
    folder = tmp_path / "creds"
    folder.mkdir()
    (folder / "viggle_api_key").write_text(key_text, encoding="utf-8")
    return str(folder)


def test_api_key_prefers_systemd_credentials(tmp_path: Path) -> None:
    """$CREDENTIALS_DIRECTORY/viggle_api_key wins over the variable and the key file."""
    env = {
        "CREDENTIALS_DIRECTORY": credentials_dir(tmp_path, "from-creds\n"),
        "VIGGLE_API_KEY": "from-env",
    }
    key = resolve_api_key(key_config(tmp_path, "from-file"), env)
    assert key.reveal() == "from-creds"


def test_api_key_prefers_the_variable_over_the_key_file(tmp_path: Path) -> None:
    """Without credentials, VIGGLE_API_KEY wins over api.key_file."""
    key = resolve_api_key(key_config(tmp_path, "from-file"), {"VIGGLE_API_KEY": " from-env "})
    assert key.reveal() == "from-env"


def test_api_key_falls_back_to_the_key_file(tmp_path: Path) -> None:
    """With neither credentials nor variable, the key file is read (whitespace trimmed)."""
    key = resolve_api_key(key_config(tmp_path, "  from-file\n"), {})
    assert key.reveal() == "from-file"


def test_api_key_skips_a_credentials_dir_without_the_key(tmp_path: Path) -> None:
    """A credentials folder lacking viggle_api_key, and a blank variable, are passed over."""
    folder = tmp_path / "creds"
    folder.mkdir()
    env = {"CREDENTIALS_DIRECTORY": str(folder), "VIGGLE_API_KEY": "  "}
    assert resolve_api_key(key_config(tmp_path, "from-file"), env).reveal() == "from-file"


def test_missing_api_key_is_a_config_error(tmp_path: Path) -> None:
    """No source at all (the key file absent) says where a key may come from."""
    with pytest.raises(ConfigError) as excinfo:
        resolve_api_key(key_config(tmp_path, None), {})
    assert str(excinfo.value) == (
        f"no API key ({tmp_path / 'key.txt'} is missing or empty): set VIGGLE_API_KEY or "
        "VIGGLE_API_KEY_FILE, or api.key_file in the config, or a systemd credential named "
        "viggle_api_key"
    )


def test_api_key_from_the_file_the_variable_names(tmp_path: Path) -> None:
    """VIGGLE_API_KEY_FILE (a Docker or Compose secret) comes before api.key_file; with
    VIGGLE_API_KEY too it is refused: which one was meant?"""
    secret = tmp_path / "secret"
    secret.write_text("# a compose secret\nfrom-secret\n", encoding="utf-8")
    config = key_config(tmp_path, "from-file")
    assert resolve_api_key(config, {"VIGGLE_API_KEY_FILE": str(secret)}).reveal() == "from-secret"
    both = {"VIGGLE_API_KEY_FILE": str(secret), "VIGGLE_API_KEY": "from-env"}
    with pytest.raises(ConfigError, match="are both set: keep the one you mean"):
        resolve_api_key(config, both)  # a key left over (the emulator's) is never sent


def test_a_missing_named_key_file_never_falls_back(tmp_path: Path) -> None:
    """A VIGGLE_API_KEY_FILE that is not there is an error, not a quiet turn to api.key_file."""
    missing = tmp_path / "no-such-secret"
    with pytest.raises(ConfigError) as excinfo:
        resolve_api_key(key_config(tmp_path, "from-file"), {"VIGGLE_API_KEY_FILE": str(missing)})
    assert str(excinfo.value) == f"VIGGLE_API_KEY_FILE: {missing} is missing or holds no key"


def test_api_key_never_shows_in_repr_or_str() -> None:
    """repr, str and f-strings of an ApiKey show stars, never the key."""
    key = ApiKey("sk-very-secret-123")
    assert (repr(key), str(key), f"{key}", f"{key!r}") == ("ApiKey('***')",) * 4


def test_api_key_refuses_pickling_and_copying() -> None:
    """An ApiKey cannot be pickled (nor copied through the pickle protocol)."""
    key = ApiKey("sk-very-secret-123")
    with pytest.raises(TypeError) as pickled:
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)
    assert str(pickled.value) == "ApiKey cannot be pickled"


def test_api_key_refuses_a_blank_key() -> None:
    """A key of only whitespace is not a key."""
    with pytest.raises(ValueError) as excinfo:
        ApiKey(" \n")
    assert str(excinfo.value) == "empty API key"


# --- key files are parsed strictly (issue 14 §10) --------------------------------------------


def test_a_key_file_may_hold_comments_and_blank_lines(tmp_path: Path) -> None:
    config = key_config(tmp_path, "# viggle key for the studio\n\nsk-live_abc123\n\n# end\n")
    assert resolve_api_key(config, environ={}) == ApiKey("sk-live_abc123")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("sk-one\nsk-two\n", "holds 2 lines that are not comments"),
        ("viggle key sk-live_abc123\n", "one word of printable characters"),
        ("sk-live\u00e9abc\n", "one word of printable characters"),
    ],
)
def test_a_key_file_holding_anything_else_is_refused_at_start_up(
    tmp_path: Path, text: str, said: str
) -> None:
    """Refused with what is wrong, never with the file's words (they may be the key)."""
    with pytest.raises(ConfigError) as caught:
        resolve_api_key(key_config(tmp_path, text), environ={})
    assert said in str(caught.value)
    assert "sk-" not in str(caught.value).replace(str(tmp_path), "")


def test_a_key_with_a_line_break_in_the_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="VIGGLE_API_KEY: the API key must be one word"):
        resolve_api_key(key_config(tmp_path, None), environ={"VIGGLE_API_KEY": "sk-a\nb"})


def test_a_key_file_that_is_a_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    """A FIFO named as the key file would block a plain read for ever."""
    config = key_config(tmp_path, None)
    assert config.api.key_file is not None
    os.mkfifo(config.api.key_file)
    with pytest.raises(ConfigError, match="not a regular file"):
        resolve_api_key(config, environ={})


def test_a_key_file_may_be_a_link_to_a_regular_file(tmp_path: Path) -> None:
    """Mounted secrets are often links; they must end at a regular file."""
    target = tmp_path / "secret"
    target.write_text("sk-linked\n", encoding="utf-8")
    config = key_config(tmp_path, None)
    assert config.api.key_file is not None
    config.api.key_file.symlink_to(target)
    assert resolve_api_key(config, environ={}) == ApiKey("sk-linked")
