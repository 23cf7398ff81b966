"""Pure: the emulator's route table and the matching of a method and path against it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

_ARGUMENT: Final = re.compile(r"/\{\w+\}")


@dataclass(frozen=True, slots=True)
class Route:
    """``METHOD /path/{arg}`` served by ``endpoint``."""

    method: str
    pattern: str
    endpoint: str

    @property
    def stats_key(self) -> str:
        """``METHOD /pattern`` with path arguments left out: ``GET /api/render``."""
        return f"{self.method} {_ARGUMENT.sub('', self.pattern)}"

    def match(self, path: str) -> dict[str, str] | None:
        """The path arguments if ``path`` fits the pattern, else None."""
        found = _compiled(self.pattern).fullmatch(path)
        return found.groupdict() if found else None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern))


ROUTES: Final = (
    Route("POST", "/api/render", "render_create"),
    Route("GET", "/api/render/{job_id}", "render_status"),
    Route("DELETE", "/api/render/{job_id}", "render_cancel"),
    Route("POST", "/api/characters/preprocess", "character_create"),
    Route("GET", "/api/characters", "character_list"),
    Route("GET", "/api/characters/{asset_id}", "character_get"),
    Route("DELETE", "/api/characters/{asset_id}", "character_delete"),
    Route("POST", "/api/scenes/preprocess", "scene_create"),
    Route("POST", "/api/scenes/import", "scene_import"),
    Route("GET", "/api/scenes", "scene_list"),
    Route("GET", "/api/scenes/{asset_id}", "scene_get"),
    Route("DELETE", "/api/scenes/{asset_id}", "scene_delete"),
    Route("GET", "/api/credits", "credits"),
    Route("GET", "/cdn/{name}", "cdn"),
    Route("GET", "/_sim/stats", "sim_stats"),
    Route("POST", "/_sim/reset", "sim_reset"),
    Route("GET", "/_sim/faults", "sim_faults"),
    Route("POST", "/_sim/faults", "sim_faults"),
    Route("POST", "/_sim/drift", "sim_drift"),
    Route("GET", "/_sim/files/{name}", "sim_files"),
    Route("PUT", "/_sim/files/{name}", "sim_files"),
)


@dataclass(frozen=True, slots=True)
class Unmatched:
    """No route: 404, or 405 with the methods the path does allow."""

    allowed: tuple[str, ...]

    @property
    def status(self) -> int:
        """404 or 405."""
        return 405 if self.allowed else 404


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | Unmatched:
    """The route serving ``method path`` (a trailing slash is ignored) and its arguments."""
    path = path.rstrip("/") or "/"
    allowed: list[str] = []
    for route in ROUTES:
        args = route.match(path)
        if args is None:
            continue
        if route.method == method:
            return route, args
        allowed.append(route.method)
    return Unmatched(tuple(sorted(set(allowed))))
