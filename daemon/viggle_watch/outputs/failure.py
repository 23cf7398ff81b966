"""``NAME.error.json``: the document beside an input filed in ``failed/`` — refused before any
spending, or whose jobs all failed. Light on purpose (no logging library): the checks that
`status` and `plan` import build it too."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from viggle_watch.clock import iso

ERROR_SCHEMA_VERSION: Final = 1
# where inputs are filed in their watch folder once handled (outputs.filing moves them)
PROCESSED: Final = "processed"
FAILED: Final = "failed"
SOURCE: Final = "Source"
FILED: Final = frozenset({PROCESSED, FAILED, SOURCE})


def failure_document(
    path: Path, code: str, reason: str, detail: Mapping[str, object], *, rule: str, at: float
) -> dict[str, object]:
    """The JSON written as ``NAME.error.json`` beside an input filed in ``failed/`` — refused
    before any spending, or whose jobs all failed — ``at`` (epoch seconds) as ISO-8601 UTC."""
    return {
        "schema_version": ERROR_SCHEMA_VERSION,
        "file": path.name,
        "path": str(path),
        "rule": rule,
        "code": code,
        "reason": reason,
        "detail": dict(detail),
        "at": iso(at),
    }
