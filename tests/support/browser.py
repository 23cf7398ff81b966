"""A real browser for the tests (issue 18): Debian's chromium, driven by Playwright for Python
with ``executable_path`` (Playwright's own browser download is never used).

``$VIGGLE_TEST_CHROMIUM`` names the executable (``.ci/run`` installs chromium and sets it); else
``/usr/bin/chromium``; else ``chromium`` on ``PATH``; else every browser test skips, saying why.
``VIGGLE_TEST_BROWSER=off`` skips them outright. A chromium that was found but will not start
fails the tests when ``$VIGGLE_TEST_CHROMIUM`` named it (CI), and skips them otherwise.

The browser is started once per test module (about 0.6 s) and closed after it; each test gets
fresh contexts (no cookies or storage shared), closed after the test. Inside the browser every
name under ``.test`` (reserved, RFC 2606) resolves to 127.0.0.1, so a test can serve a page from
another *site* (``http://evil.test:PORT/``) or reach the service under a foreign ``Host``.

Screenshots (``screenshot(page, NAME)``) are written only when ``$VIGGLE_SCREENSHOTS`` names a
folder: ``VIGGLE_SCREENSHOTS=docs/screenshots python -m pytest -m browser`` refreshes the ones in
``docs/``; a CI run leaves the tree as it found it.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM_ENV: Final = "VIGGLE_TEST_CHROMIUM"
SWITCH_ENV: Final = "VIGGLE_TEST_BROWSER"
SCREENSHOTS_ENV: Final = "VIGGLE_SCREENSHOTS"
DEBIAN_CHROMIUM: Final = Path("/usr/bin/chromium")
SKIP: Final = "browser tests skipped"
HINT: Final = f"install Debian's chromium (apt-get install chromium) or set {CHROMIUM_ENV}"
FLAGS: Final = (
    "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    # nothing but 127.0.0.1: no calls home to Google, no proxy from the environment
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
    "--host-resolver-rules=MAP *.test 127.0.0.1",
)
VIEWPORT: Final = {"width": 1280, "height": 800}  # screenshots the same size on every machine
TIMEOUT_MS: Final = 10_000  # a step that waits longer has failed
SCREENSHOT_NAME: Final = re.compile(r"[a-z0-9][a-z0-9-]*")
P = ParamSpec("P")
T = TypeVar("T")


def find_chromium(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The chromium to drive, or None with the reason in words."""
    if environ.get(SWITCH_ENV, "").lower() in ("off", "0", "no", "false"):
        return None, f"{SWITCH_ENV}=off"
    named = environ.get(CHROMIUM_ENV)
    if named:
        if _runnable(Path(named)):
            return named, ""
        return None, f"{CHROMIUM_ENV}={named} is not an executable"
    if _runnable(DEBIAN_CHROMIUM):
        return str(DEBIAN_CHROMIUM), ""
    found = shutil.which("chromium")
    return (found, "") if found else (None, f"no chromium found; {HINT}")


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


class InlineExecutor(ThreadPoolExecutor):  # asyncio takes no other kind
    """Runs each call at once on the calling thread. Playwright reads and writes files (uploads,
    screenshots, downloads) through its event loop's default executor, whose thread would live
    past the test that started it and trip the guard against leaked threads. It never starts
    one."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as e:  # handed to the awaiting caller, as a pool thread would
            done.set_exception(e)
        return done


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives chromium (tests/support/browser.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that asks for the browser is marked ``browser``: ``-m 'not browser'`` leaves
    them out, ``-m browser`` runs only them."""
    for item in items:
        if {"browser", "chromium"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium, started for this module and closed after it; skips, saying why, without it.
    Its profile is Playwright's fresh one in the temp folder, removed at close; what chromium
    keeps beside it (the crash reporter's folder, caches) goes in a temp folder too."""
    executable, why = find_chromium(os.environ)
    if executable is None:
        pytest.skip(f"{SKIP}: {why}")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as e:
        pytest.skip(f"{SKIP}: playwright is not importable ({e}); pip install '.[test]'")
    playwright = sync_playwright().start()
    playwright._loop.set_default_executor(InlineExecutor())  # the sync API's own loop
    home = tmp_path_factory.mktemp("chromium")
    env: dict[str, str | float | bool] = {**os.environ, "XDG_CONFIG_HOME": str(home)}
    env["XDG_CACHE_HOME"] = str(home)
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=list(FLAGS), env=env)
    except Error as e:
        playwright.stop()
        words = f"{executable} would not start: {str(e).splitlines()[0]}"
        if os.environ.get(CHROMIUM_ENV):
            pytest.fail(words)  # CI named it: a browser that does not start is a failure
        pytest.skip(f"{SKIP}: {words}; {HINT}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@dataclass
class Browsing:
    """Fresh browser contexts for one test: ``context()`` for each visitor (a logged-in one, an
    anonymous one…), ``page()`` for a page in a new context; all closed after the test."""

    browser: Browser
    opened: list[BrowserContext] = field(default_factory=list)

    def context(self, **options: Any) -> BrowserContext:
        """A new context (its own cookies and storage); ``options`` as Playwright's."""
        made = self.browser.new_context(**{"viewport": VIEWPORT, **options})
        made.set_default_timeout(TIMEOUT_MS)
        self.opened.append(made)
        return made

    def page(self, **options: Any) -> Page:
        """A page in a context of its own."""
        return self.context(**options).new_page()

    def close(self) -> None:
        for made in self.opened:
            made.close()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browsing]:
    """Pages and contexts in chromium for this test, closed after it."""
    browsing = Browsing(chromium)
    try:
        yield browsing
    finally:
        browsing.close()


def screenshot(page: Page, name: str, environ: Mapping[str, str] = os.environ) -> Path | None:
    """Save ``page`` as ``NAME.png`` in ``$VIGGLE_SCREENSHOTS`` (e.g. ``docs/screenshots``);
    without it, nothing is written."""
    folder = environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    if not SCREENSHOT_NAME.fullmatch(name):
        raise ValueError(f"screenshot name {name!r}: lower-case letters, digits and dashes")
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page.screenshot())
    return path


def _page_handler(html: Callable[[], bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html() if self.path == "/" else b"not here"
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests look at what the page did instead."""

    return Handler


@pytest.fixture
def other_site() -> Iterator[Callable[[str], str]]:
    """A factory: serve one HTML page from another site, ``http://evil.test:PORT/`` (127.0.0.1
    in the browser, on a port of its own; ``host="127.0.0.1"``: the same site, another origin);
    stopped after the test."""
    servers: list[tuple[HTTPServer, threading.Thread]] = []

    def serve(html: str, host: str = "evil.test") -> str:
        server = HTTPServer(("127.0.0.1", 0), _page_handler(lambda: html.encode()))
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="other-site"
        )
        thread.start()
        servers.append((server, thread))
        return f"http://{host}:{server.server_address[1]}/"

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()
