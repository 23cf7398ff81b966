"""The API key as a value that cannot leak by accident: no repr, no str, no pickling."""

from __future__ import annotations

import os
import re
from typing import Final, NoReturn

_TOKEN: Final = re.compile(r"[\x21-\x7e]+")


class ApiKey:
    """Holds the key; only ``reveal()`` gives it out, and only the HTTP client calls that."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            raise ValueError("empty API key")
        if not _TOKEN.fullmatch(value):  # it goes into a header: one printable token
            raise ValueError(
                "the API key must be one word of printable characters (no spaces, no line breaks)"
            )
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiKey cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def key_from_text(text: str) -> ApiKey | None:
    """The key in a key file's text: one line with one word; blank lines and ``#`` comment
    lines are allowed and ignored. None when there is none; ``ValueError`` saying what else
    the file holds (never the key)."""
    lines = [line.strip() for line in text.splitlines()]
    words = [line for line in lines if line and not line.startswith("#")]
    if not words:
        return None
    if len(words) > 1:
        raise ValueError(
            f"it holds {len(words)} lines that are not comments; "
            "a key file holds the key on one line (and # comments)"
        )
    return ApiKey(words[0])


KEY_ENVIRONMENT: Final = ("VIGGLE_API_KEY", "VIGGLE_API_KEY_FILE", "CREDENTIALS_DIRECTORY")
"""Where the key may be in an environment: never handed to a child (hooks, readers)."""


def child_env() -> dict[str, str]:
    """This process's environment without the key or where systemd keeps it: for children."""
    return {k: v for k, v in os.environ.items() if k not in KEY_ENVIRONMENT}
