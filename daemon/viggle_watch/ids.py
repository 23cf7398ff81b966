"""Ids that go into the API's URLs — a render's job id, a character or scene id, a template or a
segment id, from a config, a manifest or an API answer — must each be one safe path segment:
letters, digits, ``-`` and ``_`` (the real format is not documented, so no UUID is assumed).
Anything else could turn an authenticated request into one for another path (issue 14 §16)."""

from __future__ import annotations

import re
from typing import Final

SAFE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
RULE: Final = "an id is 1 to 128 letters, digits, '-' or '_' (one segment of a URL path)"


def check_id(value: str) -> str:
    """``value`` when it is one safe path segment; ``ValueError`` saying the rule otherwise."""
    if not SAFE_ID.fullmatch(value):
        raise ValueError(check_reason(value))
    return value


def check_reason(value: str) -> str:
    return f"{shown(value)} is not a usable id: {RULE}"


def shown(value: str) -> str:
    """A hostile value as it may be shown in an error: quoted, and cut short."""
    return repr(value if len(value) <= 40 else value[:37] + "...")
