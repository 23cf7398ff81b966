"""The architecture, checked with ``ast`` (docs/architecture.md): the layer rule, no import
cycles, pure modules do no I/O, each I/O library has one home, no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "daemon" / "viggle_watch"
NAME = "viggle_watch"
MODULES = sorted(PACKAGE.rglob("*.py"))
IO_LIBRARIES = (
    "requests",
    "sqlite3",
    "watchdog",
    "apscheduler",
    "urllib3",
    "werkzeug",
    "prometheus_client",
    "psycopg",
)
MAX_LINES = 400

# The layer rule, top to bottom: a stage imports only from the layers below it, or from a
# stage of its own layer when that makes no cycle. "base" is the package's top-level modules.
# `web` (beside app) and `events` (beside outputs) are room for later stages.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("container",),  # the image's entry point: it runs the CLI
    ("cli",),
    ("app", "web"),
    ("intake", "render"),
    ("outputs", "events", "notify", "watch"),
    ("store", "rules"),
    ("viggle", "emulator", "config", "media"),
    ("base",),
)
LAYER_OF = {stage: depth for depth, stages in enumerate(LAYERS) for stage in stages}

# Named pure in docs/architecture.md; any module whose docstring starts with "Pure" is held to
# it too.
DECLARED_PURE = (
    *sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "rules").glob("*.py")),
    "intake/arrival.py",
    "intake/decide.py",
    "render/outcomes.py",
    "render/retry.py",
    "render/budget.py",
    "watch/filters.py",
    "outputs/naming.py",
    "outputs/sidecar.py",
    "backoff.py",
    "container/plan.py",
)

# Where each I/O library may be imported (files relative to the package, or folders).
HOMES: dict[str, tuple[str, ...]] = {
    "watchdog": ("watch/observer.py",),
    "apscheduler": ("app/scheduler.py",),
    "sqlite3": ("store/",),
    # the client and its HTTP half; the composition root builds sessions and passes them in
    "requests": (
        "viggle/client.py",
        "viggle/transport.py",
        "viggle/results.py",
        "app/assembly.py",
        "app/clients.py",
    ),
    "psycopg": ("store/postgres.py",),
    "urllib3": ("viggle/transport.py", "viggle/results.py"),
    "werkzeug": ("emulator/server.py",),
    "prometheus_client": ("notify/metrics.py",),
    "apprise": ("notify/apprise_send.py",),
}


def rel(path: Path) -> str:
    """The module's path inside the package, with forward slashes."""
    return path.relative_to(PACKAGE).as_posix()


def stage_of(path: Path) -> str:
    """The stage (first folder inside the package) a module belongs to; ``base`` at the top."""
    parts = path.relative_to(PACKAGE).parts
    if parts == ("__main__.py",):
        return "cli"  # `python -m viggle_watch` is the CLI
    return parts[0] if len(parts) > 1 else "base"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([NAME, *parts])


MODULE_PATHS = {module_name(p): p for p in MODULES}


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(the top-level names of every library ``path`` imports, the package's own modules it
    imports), function-level imports included: a lazy import is still a dependency."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    libraries: set[str] = set()
    own: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            libraries.add(name.split(".")[0])
            if name.split(".")[0] == NAME and name in MODULE_PATHS:
                own.add(name)
    return libraries, own - {module_name(path)}


def is_marked_pure(path: Path) -> bool:
    """The module's docstring starts with "Pure"."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    return bool(doc and doc.startswith("Pure"))


PURE = sorted(set(DECLARED_PURE) | {rel(p) for p in MODULES if is_marked_pure(p)})


def stage_graph() -> dict[str, set[str]]:
    """Which stages each stage imports from (itself left out)."""
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        stage = stage_of(path)
        targets = {stage_of(MODULE_PATHS[m]) for m in imports_of(path)[1]}
        graph.setdefault(stage, set()).update(targets - {stage})
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle in ``graph`` as a list of nodes, or [] when there is none."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in colour and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return []

    for start in sorted(graph):
        if start not in colour and (found := visit(start)):
            return found
    return []


def test_the_scan_sees_the_package() -> None:
    """The module list is not empty and every declared pure module exists."""
    names = {rel(p) for p in MODULES}
    assert (len(names) > 20, [m for m in DECLARED_PURE if m not in names]) == (True, [])


def test_import_scanner_finds_imports() -> None:
    """The scanner sees plain, dotted and from-imports, and the package's own modules."""
    libraries, own = imports_of(PACKAGE / "store" / "sqlite.py")
    assert (libraries >= {"sqlite3", NAME, "contextlib"}, "viggle_watch.errors" in own) == (
        True,
        True,
    )


def test_every_stage_is_in_the_layer_rule() -> None:
    """A new folder in the package must be given its place in LAYERS (and the docs)."""
    assert sorted({stage_of(p) for p in MODULES} - set(LAYER_OF)) == []


def test_no_stage_imports_from_a_layer_above_it() -> None:
    """cli → app → {intake, render} → {outputs, notify, watch} → {store, rules} →
    {viggle, emulator, config, media} → base: every import points down, or sideways."""
    upward = sorted(
        f"{rel(path)} imports {target}"
        for path in MODULES
        for target in imports_of(path)[1]
        if LAYER_OF[stage_of(MODULE_PATHS[target])] < LAYER_OF[stage_of(path)]
    )
    assert upward == []


def test_the_stages_import_each_other_without_a_cycle() -> None:
    """Imports between stages (sideways within a layer included) never go round in a circle."""
    assert find_cycle(stage_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a made-up graph with a circle is caught."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_io_library(module: str) -> None:
    """Pure modules decide; they import none of the HTTP, database, watch or scheduler libs."""
    libraries, _ = imports_of(PACKAGE / module)
    assert sorted(libraries & set(IO_LIBRARIES)) == []


@pytest.mark.parametrize("library", sorted(HOMES))
def test_each_io_library_is_imported_only_in_its_home(library: str) -> None:
    """Each I/O library (watchdog, apscheduler, sqlite3, requests ...) stays behind one boundary."""
    homes = HOMES[library]
    offenders = [
        rel(p)
        for p in MODULES
        if library in imports_of(p)[0]
        and not any(rel(p) == h or (h.endswith("/") and rel(p).startswith(h)) for h in homes)
    ]
    assert offenders == []


def test_no_module_is_over_400_lines() -> None:
    """No god objects: every module of the package stays under the size limit."""
    sizes = {rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
