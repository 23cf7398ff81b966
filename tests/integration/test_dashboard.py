"""The dashboard (issue 18) in a real browser: Debian's chromium driven by Playwright against the
real service's listener and the Viggle emulator on 127.0.0.1. The service's ticks are stepped
by the test (``Stepper``) while the page stays open, so every change the page shows came to it
live, over its event stream, without a reload. Screenshots go to ``$VIGGLE_SCREENSHOTS``."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import Browsing, screenshot
from tests.support.waits import wait_for
from tests.support.web import TOKEN, Board
from tests.support.workspace import Workspace
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.flags import Flag, FlagStore
from viggle_watch.store.states import State


def sign_in(page: Page, base: str, token: str = TOKEN) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    expect(page.locator(".who .badge.ok")).to_have_text("signed in")


def count_of(page: Page, state: str) -> Any:
    return page.locator(f".tile .n[data-state={state}]")


def test_the_overview_follows_a_render_without_reloading(
    board: Board, browser: Browsing, workspace: Workspace
) -> None:
    base, st = board()
    page = browser.page()
    page.goto(base)
    expect(count_of(page, "queued")).to_have_text("0")
    page.evaluate("window.notReloaded = true")  # gone if the page were loaded again
    make_character_png(workspace.watch / "hero.png", seed=1)
    st.service.intake.rescan(st.clock.time())  # seen, not settled yet
    page.reload()
    expect(page.locator("#overview td[title^='files still']").first).to_have_text("1")
    page.evaluate("window.notReloaded = true")
    st.ingest()
    expect(count_of(page, "queued")).to_have_text("1")
    st.run_until(lambda: st.state(1) == State.RENDERING)
    expect(count_of(page, "rendering")).to_have_text("1")
    expect(page.locator("#overview table.list").first).to_contain_text("hero.png")
    screenshot(page, "dashboard-overview")
    st.run_until(lambda: st.state(1) == State.DONE)
    expect(count_of(page, "done")).to_have_text("1")
    expect(count_of(page, "rendering")).to_have_text("0")
    assert page.evaluate("window.notReloaded") is True
    page.goto(f"{base}/jobs/1")
    expect(page.locator("video")).to_have_attribute("src", "/files/1/video")
    length = page.evaluate(
        "async () => (await (await fetch('/files/1/video')).arrayBuffer()).byteLength"
    )
    job = st.service.store.get(1)
    assert job is not None and job.output_path is not None
    assert length == Path(job.output_path).stat().st_size
    screenshot(page, "dashboard-job")


def test_a_refused_input_shows_its_reason(
    board: Board, browser: Browsing, workspace: Workspace
) -> None:
    base, st = board()
    (workspace.watch / "broken.png").write_bytes(b"this is not a picture")
    st.ingest()
    page = browser.page()
    page.goto(f"{base}/attention")
    row = page.locator("tr.refused", has_text="broken.png")
    expect(row).to_be_visible()
    assert "image" in row.inner_text().lower() or "decode" in row.inner_text().lower()


def test_sign_in_then_retry_a_failed_job(
    board: Board, browser: Browsing, workspace: Workspace, emulator: RunningEmulator
) -> None:
    base, st = board()
    make_character_png(workspace.watch / "hero.png", seed=2)
    st.ingest()
    st.service.store.transition(1, State.QUEUED, State.FAILED, at=st.clock.time(), detail="x")
    page = browser.page()
    page.goto(f"{base}/jobs/1")
    expect(page.locator(".actions button")).to_have_count(0)  # anonymous: nothing to press
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    sign_in(page, base)
    page.goto(f"{base}/jobs/1")
    page.once("dialog", lambda d: d.accept())  # "It costs credits." — yes
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#flash")).to_contain_text("retry done; it is queued now")
    expect(page.locator("h1 .state")).to_have_text("queued")
    assert st.state(1) == State.QUEUED
    st.run_until(lambda: st.state(1) == State.DONE)
    expect(page.locator("h1 .state")).to_have_text("done")


def test_resolving_an_uncertain_job(
    board: Board, browser: Browsing, workspace: Workspace, emulator: RunningEmulator
) -> None:
    base, st = board()
    make_character_png(workspace.watch / "hero.png", seed=3)
    st.ingest()
    st.run_until(lambda: st.state(1) == State.RENDERING)
    job = st.service.store.get(1)
    assert job is not None and job.viggle_job_id is not None
    at = st.clock.time()
    st.service.store.transition(1, State.RENDERING, State.UNCERTAIN, at=at, detail="lost")
    page = browser.page()
    sign_in(page, base)
    page.goto(f"{base}/attention")
    card = page.locator("#job-1")
    expect(card).to_contain_text("hero.png")
    screenshot(page, "dashboard-needs-a-person")
    card.locator("input[name=viggle_job]").fill(job.viggle_job_id)
    card.get_by_role("button", name="Resolve").click()
    expect(page.locator("#flash")).to_contain_text("resolve done; it is rendering now")
    st.run_until(lambda: st.state(1) == State.DONE)
    assert len(emulator.emulator.stats()["render_submissions"]) == 1  # followed, never paid again


def test_the_pause_switch_stops_submissions(
    board: Board, browser: Browsing, workspace: Workspace, emulator: RunningEmulator
) -> None:
    base, st = board()
    page = browser.page()
    sign_in(page, base)
    page.goto(base)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".pause")).to_contain_text("Paused")
    make_character_png(workspace.watch / "hero.png", seed=4)
    st.ingest()
    for _ in range(6):
        st.step(1.0)
    assert st.state(1) == State.QUEUED and len(emulator.emulator.stats()["render_submissions"]) == 0
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".pause")).to_contain_text("Not paused")
    flags = FlagStore(st.service.db)  # as `viggle-watch pause` on another terminal does it
    flags.raise_flag(Flag.PAUSED, "lunch", now=st.clock.time())
    expect(page.locator(".pause")).to_contain_text("lunch")  # shown live, without a reload
    flags.lower(Flag.PAUSED)
    expect(page.locator(".pause")).to_contain_text("Not paused")
    st.run_until(lambda: st.state(1) == State.RENDERING)
    assert len(emulator.emulator.stats()["render_submissions"]) == 1


def test_the_jobs_list_filters_pages_and_acts_in_bulk(
    board: Board, browser: Browsing, workspace: Workspace
) -> None:
    base, st = board()
    for i in range(3):
        make_character_png(workspace.watch / f"hero{i}.png", seed=10 + i)
    st.ingest()
    for job_id in (1, 2):
        st.service.store.transition(
            job_id, State.QUEUED, State.FAILED, at=st.clock.time(), detail="x"
        )
    page = browser.page()
    sign_in(page, base)
    page.goto(f"{base}/jobs?state=failed")
    rows = page.locator("#jobs tbody tr")
    expect(rows).to_have_count(2)
    page.goto(f"{base}/jobs?q=HERO2")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("hero2.png")
    page.goto(f"{base}/jobs?state=failed")
    for box in page.locator("input[name=ids]").all():
        box.check()
    page.once("dialog", lambda d: d.accept())
    page.locator(".actions").get_by_role("button", name="Retry").click()
    expect(page.locator("#flash")).to_contain_text("retry: 2 of 2 done.")
    expect(rows).to_have_count(1)  # the list follows: none failed any more
    expect(rows.first).to_contain_text("No jobs match.")
    assert [st.state(i) for i in (1, 2, 3)] == [State.QUEUED] * 3
    screenshot(page, "dashboard-jobs")


DROP = """async ([name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, {type: "image/png"}));
  const card = document.querySelector(".dropzone[data-rule=dance]");
  card.dispatchEvent(new DragEvent("dragover", {bubbles: true, dataTransfer: data}));
  card.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: data}));
}"""


def test_a_file_dropped_on_a_rule_card_ends_in_a_rendered_output(
    board: Board,
    browser: Browsing,
    workspace: Workspace,
    tmp_path: Path,
    emulator: RunningEmulator,
) -> None:
    """Dropped in the browser, the file takes the path a dropped file takes: into the rule's
    watch folder (under a temporary name, then its own), through the intake, rendered."""
    base, st = board()
    page = browser.page()
    sign_in(page, base)
    picture = make_character_png(tmp_path / "dropped hero.png", seed=21)
    page.evaluate(DROP, ["dropped hero.png", base64.b64encode(picture.read_bytes()).decode()])
    uploads = page.locator(".rule[data-rule=dance] .uploads li").first
    expect(uploads).to_contain_text("dropped hero.png: ")
    wait_for(lambda: (workspace.watch / "dropped hero.png").is_file(), timeout_s=10)
    assert (workspace.watch / "dropped hero.png").read_bytes() == picture.read_bytes()
    st.ingest()
    expect(uploads).to_contain_text("dropped hero.png: job #1 queued")
    st.run_until(lambda: st.state(1) == State.DONE)
    expect(uploads).to_have_text("dropped hero.png: job #1 done")  # followed to its end
    expect(uploads.locator("a")).to_have_attribute("href", "/jobs/1")
    page.locator(".rules").scroll_into_view_if_needed()
    screenshot(page, "dashboard-drop")
    job = st.service.store.get(1)
    assert job is not None and job.output_path is not None and Path(job.output_path).is_file()
    # the picker does the same, and the same content is not rendered (nor paid) twice
    page.set_input_files(".rule[data-rule=dance] input[type=file]", str(picture))
    wait_for(lambda: len(list(workspace.watch.glob("dropped hero*.png"))) == 1, timeout_s=10)
    st.ingest()
    expect(uploads).to_contain_text("the same render as job #1: not paid again")
    assert [j.id for j in st.service.store.latest(limit=10)] == [1]  # no second job
    for _ in range(3):
        st.step(1.0)
    assert len(emulator.emulator.stats()["render_submissions"]) == 1


SAME_SITE_FORM = """<!doctype html>
<form method="post" action="{base}/ui/pause"><input name="reason" value="from-another-port"></form>
<script>document.forms[0].submit();</script>
"""


def test_a_signed_in_browser_cannot_be_made_to_pause_by_another_page(
    board: Board, browser: Browsing, other_site: Callable[..., str]
) -> None:
    """Signed in, then on a page of another port of 127.0.0.1 (the same site: the session
    cookie, SameSite=Strict, goes with its requests): its form is refused as cross-site
    before the cookie is looked at; nothing is paused."""
    base, st = board()
    page = browser.page()
    sign_in(page, base)
    with page.expect_response(lambda r: r.url == f"{base}/ui/pause") as posted:
        page.goto(other_site(SAME_SITE_FORM.format(base=base), host="127.0.0.1"))
    assert posted.value.request.header_value("cookie") is not None  # the cookie did go
    assert posted.value.status == 403 and "another site" in posted.value.json()["detail"]
    assert FlagStore(st.service.db).raised() == []
