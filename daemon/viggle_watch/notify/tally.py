"""What each notify target and service webhook came to — sent, failed, the last error — kept by
the running service in ``STATE_DIR/notify-status.json`` for ``status`` (another process) to
show. Light: no logging library, so ``status`` stays quick."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

STATUS_FILE: Final = "notify-status.json"


def read_status(state_dir: Path) -> list[dict[str, Any]]:
    """What the running service last wrote of its targets ([] when nothing)."""
    try:
        found = json.loads((state_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return found if isinstance(found, list) else []
