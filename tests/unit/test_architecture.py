"""The architecture, checked with ``ast``: pure modules do no I/O; each library has one home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "daemon"
MODULES = sorted(PACKAGE.rglob("*.py"))
IO_LIBRARIES = (
    "requests",
    "sqlite3",
    "watchdog",
    "apscheduler",
    "urllib3",
    "werkzeug",
    "prometheus_client",
)
MAX_LINES = 400

# Named pure in ARCHITECTURE.md; any module whose docstring starts with "Pure" is held to it too.
DECLARED_PURE = (
    *sorted(p.relative_to(PACKAGE.parent).as_posix() for p in (PACKAGE / "rules").glob("*.py")),
    "daemon/watch/filters.py",
    "daemon/render/retry.py",
    "daemon/outputs/naming.py",
    "daemon/outputs/sidecar.py",
    "daemon/backoff.py",
)

# Where each I/O library may be imported (files relative to the repository, or folders).
HOMES: dict[str, tuple[str, ...]] = {
    "watchdog": ("daemon/watch/observer.py",),
    "apscheduler": ("daemon/scheduler.py",),
    "sqlite3": ("daemon/store/",),
    # transport.py is the client's HTTP half, split out of client.py (same boundary)
    # clients.py builds the API client for the service (a session is passed in)
    "requests": (
        "daemon/viggle/client.py",
        "daemon/viggle/transport.py",
        "daemon/service.py",
        "daemon/clients.py",
    ),
    "psycopg": ("daemon/store/postgres.py",),
    "urllib3": ("daemon/viggle/transport.py",),
    "werkzeug": ("daemon/viggle/emulator.py",),
    "prometheus_client": ("daemon/metrics.py",),
}


def rel(path: Path) -> str:
    """``daemon/...`` path of a module, with forward slashes."""
    return path.relative_to(PACKAGE.parent).as_posix()


def top_level_imports(path: Path) -> set[str]:
    """The first component of every module ``path`` imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def is_marked_pure(path: Path) -> bool:
    """The module's docstring starts with "Pure"."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    return bool(doc and doc.startswith("Pure"))


PURE = sorted(set(DECLARED_PURE) | {rel(p) for p in MODULES if is_marked_pure(p)})


def test_the_scan_sees_the_package() -> None:
    """The module list is not empty and every declared pure module exists."""
    names = {rel(p) for p in MODULES}
    assert (len(names) > 20, [m for m in DECLARED_PURE if m not in names]) == (True, [])


def test_import_scanner_finds_imports() -> None:
    """The scanner sees plain, dotted and from-imports (and skips relative ones)."""
    assert top_level_imports(PACKAGE / "store" / "db.py") >= {"sqlite3", "daemon", "contextlib"}


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_io_library(module: str) -> None:
    """Pure modules decide; they import none of the HTTP, database, watch or scheduler libs."""
    imported = top_level_imports(PACKAGE.parent / module)
    assert sorted(imported & set(IO_LIBRARIES)) == []


@pytest.mark.parametrize(
    "library",
    [
        "watchdog",
        "apscheduler",
        "sqlite3",
        "requests",
        "urllib3",
        "werkzeug",
        "prometheus_client",
        "psycopg",
    ],
)
def test_each_io_library_is_imported_only_in_its_home(library: str) -> None:
    """Each I/O library (watchdog, apscheduler, sqlite3, requests ...) stays behind one boundary."""
    homes = HOMES[library]
    offenders = [
        rel(p)
        for p in MODULES
        if library in top_level_imports(p)
        and not any(rel(p) == h or (h.endswith("/") and rel(p).startswith(h)) for h in homes)
    ]
    assert offenders == []


def test_no_module_is_over_400_lines() -> None:
    """No god objects: every module in daemon/ stays under the size limit."""
    sizes = {rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
