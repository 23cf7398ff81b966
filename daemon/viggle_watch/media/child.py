"""How a media child answers its parent (``render.children``): one JSON document on stdout —
what it made, or ``{"error": …}`` in one line and exit status 1 — never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable


def answer(work: Callable[[], object]) -> int:
    """Run ``work`` and print its JSON answer (or what went wrong); the exit status."""
    try:
        made = work()
    except Exception as exc:  # a child's answer: what went wrong, in one line
        sys.stdout.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    sys.stdout.write(json.dumps(made))
    return 0
