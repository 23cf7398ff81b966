"""The real-browser harness (issue 18; tests/support/browser.py) proved on the JSON API:
Debian's chromium, driven by Playwright, against the real service's listener on 127.0.0.1.
A page on another site cannot change anything (its POST arrives without the token) nor read
the answers (no CORS); a page that reaches the listener under its own name (DNS rebinding) is
answered 421."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.support.browser import Browsing, screenshot
from tests.support.web import Serve

ATTACK = """<!doctype html>
<title>loading</title>
<script>
const base = "{base}";
async function attack() {{
  const results = [];
  try {{  // blind, as an attacker would send it: no-cors sends it without asking first
    const r = await fetch(base + "/api/v1/pause?reason=from-another-site",
                          {{method: "POST", mode: "no-cors"}});
    results.push("pause: " + r.type);
  }} catch (e) {{ results.push("pause: " + e.name); }}
  try {{
    const r = await fetch(base + "/api/v1/status");
    results.push("status read: " + (await r.text()).slice(0, 20));
  }} catch (e) {{ results.push("status: " + e.name); }}
  document.title = results.join("; ");
}}
attack();
</script>
"""

FORM = """<!doctype html>
<form method="post" action="{base}/api/v1/pause?reason=a-form"></form>
<script>document.forms[0].submit();</script>
"""


def _held(base: str) -> list[str]:
    status = requests.get(f"{base}/api/v1/status", timeout=10).json()
    return [h["flag"] for h in status["held"]]


def test_chromium_shows_the_status_as_the_api_answers_it(api: Serve, browser: Browsing) -> None:
    """The harness drives chromium to the real listener: the page is the status JSON."""
    base, _st = api(files=3)
    page = browser.page()
    answer = page.goto(f"{base}/api/v1/status")
    assert answer is not None and answer.status == 200
    shown = json.loads(page.locator("pre").first.inner_text())
    assert shown["counts"]["queued"] == 3
    assert shown == requests.get(f"{base}/api/v1/status", timeout=10).json()


@pytest.mark.parametrize("host", ["evil.test", "127.0.0.1"])
def test_a_page_on_another_origin_can_neither_pause_nor_read(
    api: Serve, browser: Browsing, other_site: Callable[..., str], host: str
) -> None:
    """Another site (``evil.test``), or another port on the same address (same site, another
    origin): its POST reaches the service and is refused (no token); it cannot read a GET."""
    base, _st = api(token=True)
    page = browser.page()
    with page.expect_response(lambda r: r.url.startswith(f"{base}/api/v1/pause")) as pause:
        page.goto(other_site(ATTACK.format(base=base), host=host))
    assert pause.value.status in (401, 403)  # it did arrive: the browser sent it; refused
    page.wait_for_function("document.title.includes('status')")
    # the POST went out, its answer opaque; the GET's answer is kept from the page (no CORS)
    assert page.title() == "pause: opaque; status: TypeError"
    assert _held(base) == []
    with page.expect_response(lambda r: r.url.startswith(f"{base}/api/v1/pause")) as form:
        page.goto(other_site(FORM.format(base=base), host=host))
    assert form.value.status in (401, 403)
    assert _held(base) == []


def test_the_listener_under_a_rebinding_name_answers_421(api: Serve, browser: Browsing) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused, reads too; the same
    browser by ``localhost`` is answered."""
    base, _st = api()
    port = base.rsplit(":", 1)[1]
    page = browser.page()
    refused = page.goto(f"http://evil.test:{port}/api/v1/status")
    assert refused is not None and refused.status == 421
    assert "does not answer to that Host" in refused.json()["detail"]
    answered = page.goto(f"http://localhost:{port}/api/v1/status")
    assert answered is not None and answered.status == 200


def test_screenshots_are_written_only_when_asked(
    browser: Browsing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``$VIGGLE_SCREENSHOTS`` nothing is written; with it, ``NAME.png`` there."""
    page = browser.page()
    page.set_content("<h1>viggle-watch</h1>")
    monkeypatch.chdir(tmp_path)
    assert screenshot(page, "harness", environ={}) is None
    assert list(tmp_path.iterdir()) == []
    saved = screenshot(page, "harness", environ={"VIGGLE_SCREENSHOTS": "docs/screenshots"})
    assert saved == Path("docs/screenshots/harness.png")
    assert (tmp_path / saved).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="lower-case letters"):
        screenshot(page, "../escape", environ={"VIGGLE_SCREENSHOTS": "docs/screenshots"})
