"""The dashboard (issue 18) in a real browser: Debian's chromium driven by Playwright against the
real service's listener and the Viggle emulator on 127.0.0.1. The service's ticks are stepped
by the test (``Stepper``) while the page stays open, so every change the page shows came to it
live, over its event stream, without a reload. Screenshots go to ``$VIGGLE_SCREENSHOTS``."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests
import yaml
from playwright.sync_api import Page, expect

from tests.support.browser import Browsing, screenshot
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.web import TOKEN, Listeners
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.flags import Flag, FlagStore
from viggle_watch.store.states import State


class Board(Protocol):
    def __call__(self, *, token: bool = True) -> tuple[str, Stepper]: ...


@pytest.fixture
def board(listeners: Listeners, emulator: RunningEmulator) -> Board:
    """The service with `web:` against the emulator, its listener started."""

    def factory(*, token: bool = True) -> tuple[str, Stepper]:
        return listeners.start(emulator.url, token=token)

    return factory


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


def test_a_change_without_the_pages_csrf_token_is_refused(board: Board) -> None:
    """The session cookie alone does not change anything: the CSRF token must come with it
    (a page of ours sends it; another site's page cannot read it)."""
    base, _st = board()
    with requests.Session() as s:
        signed = s.post(f"{base}/login", data={"token": TOKEN, "next": "/"}, timeout=10)
        assert signed.status_code == 200 and "viggle_session" in s.cookies
        bare = s.post(f"{base}/ui/pause", timeout=10)
        assert bare.status_code == 403 and "CSRF" in bare.json()["detail"]
        wrong = s.post(f"{base}/ui/pause", headers={"Authorization": "Bearer x"}, timeout=10)
        assert wrong.status_code == 403 and "CSRF" in wrong.json()["detail"]
        page = s.get(base, timeout=10).text
        found = re.search(r'data-csrf="([0-9a-f]+)"', page)
        assert found is not None
        good = s.post(f"{base}/ui/pause", headers={"X-CSRF-Token": found[1]}, timeout=10)
        assert good.status_code == 200
        status = s.get(f"{base}/api/v1/status", timeout=10).json()
        assert [h["flag"] for h in status["held"]] == ["paused"]
        s.post(f"{base}/logout", headers={"X-CSRF-Token": found[1]}, timeout=10)
        again = s.post(f"{base}/ui/resume", headers={"X-CSRF-Token": found[1]}, timeout=10)
        assert again.status_code == 401  # signed out: the old cookie no longer works


def test_failed_sign_ins_are_limited(board: Board) -> None:
    base, _st = board()
    said = [
        requests.post(f"{base}/login", data={"token": f"guess{i}"}, timeout=10).status_code
        for i in range(7)
    ]
    assert said[:5] == [401] * 5 and said[5:] == [429, 429]
    right = requests.post(f"{base}/login", data={"token": TOKEN}, timeout=10)
    assert right.status_code == 429  # even the right token waits: guessing gains nothing


def test_without_a_token_the_dashboard_is_read_only(board: Board) -> None:
    base, _st = board(token=False)
    page = requests.get(base, timeout=10)
    assert page.status_code == 200 and "read-only" in page.text and "<button" not in page.text
    assert requests.post(f"{base}/login", data={"token": "x"}, timeout=10).status_code == 403
    assert requests.post(f"{base}/ui/pause", timeout=10).status_code == 403


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
    expect(uploads).to_contain_text("already rendered (job #1): not paid again")
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


def test_the_sign_in_form_reads_no_large_body(board: Board) -> None:
    """The form needs no sign-in, so it reads only a small URL-encoded body (anything else is
    refused before it is read: nothing spooled to disk for anyone)."""
    base, _st = board()
    big = requests.post(f"{base}/login", files={"f": ("x", b"0" * (1 << 20))}, timeout=10)
    assert big.status_code == 415
    huge = requests.post(
        f"{base}/login",
        data=b"token=" + b"0" * (1 << 20),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert huge.status_code == 413


def test_a_cookie_or_csrf_token_of_any_text_is_simply_not_good(board: Board) -> None:
    base, _st = board()
    odd = "\u00e9t\u00e9.\u00e9.\u00e9"
    page = requests.get(base, headers={"Cookie": f"viggle_session={odd}".encode()}, timeout=10)
    assert page.status_code == 200 and "Sign in" in page.text
    with requests.Session() as s:
        s.post(f"{base}/login", data={"token": TOKEN}, timeout=10)
        odd_csrf = s.post(
            f"{base}/ui/pause", headers={"X-CSRF-Token": "\u00e9".encode()}, timeout=10
        )
        assert odd_csrf.status_code == 403


def test_job_files_are_served_only_as_plain_files_inside_the_output_folder(
    board: Board, workspace: Workspace, tmp_path: Path
) -> None:
    """An editor who can write in the output folder swaps the video for a link to a secret:
    the link is not followed."""
    base, st = board()
    make_character_png(workspace.watch / "hero.png", seed=5)
    st.ingest()
    st.run_until(lambda: st.state(1) == State.DONE)
    job = st.service.store.get(1)
    assert job is not None and job.output_path is not None
    video = Path(job.output_path)
    served = requests.get(f"{base}/files/1/video", timeout=10)
    assert served.status_code == 200 and served.content == video.read_bytes()
    assert served.headers["content-type"] == "video/mp4"
    secret = tmp_path / "secret.txt"
    secret.write_text("the token")
    video.unlink()
    video.symlink_to(secret)
    refused = requests.get(f"{base}/files/1/video", timeout=10)
    assert refused.status_code == 404 and "the token" not in refused.text
    assert requests.get(f"{base}/files/1/sidecar", timeout=10).status_code == 404


def test_a_page_that_is_not_there_is_a_page_saying_so(board: Board) -> None:
    base, _st = board()
    page = requests.get(f"{base}/jobs/999", timeout=10)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "there is no job 999" in page.text and "<h1>Not found</h1>" in page.text
    api = requests.get(f"{base}/api/v1/jobs/999", timeout=10)
    assert api.status_code == 404 and api.json() == {"detail": "there is no job 999"}
    wrong = requests.post(
        f"{base}/api/v1/pause", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert wrong.status_code == 401 and wrong.json()["detail"] == (
        "that is not the token in web.token_file"
    )


def test_needs_a_person_lists_refused_inputs_apart_from_failed_jobs(
    board: Board, workspace: Workspace
) -> None:
    """An input filed in failed/ because its job failed is a failed job, not a refused input
    ("fix the file" would be untrue for it)."""
    base, st = board()
    (workspace.watch / "broken.png").write_bytes(b"not a picture")
    st.ingest()
    failed = workspace.watch / "failed"
    (failed / "good.png").write_bytes(b"x")
    (failed / "good.png.error.json").write_text(
        '{"reason": "the render failed", "detail": {"jobs": [{"id": 7}]}}'
    )
    page = requests.get(f"{base}/attention", timeout=10).text
    refused = page.split("Refused inputs", 1)[1]
    assert "broken.png" in refused and "good.png" not in refused


def test_a_reloaded_config_shows_its_rules(board: Board, workspace: Workspace) -> None:
    """After `viggle-watch reload` (SIGHUP) the pages show the rules as they are now."""
    base, st = board()
    assert 'data-rule="spin"' not in requests.get(base, timeout=10).text
    source = st.service.config.source
    doc = yaml.safe_load(source.read_text())
    (workspace.root / "in2").mkdir()
    doc["rules"].append(dance_rule(name="spin", watch="in2"))
    source.write_text(yaml.safe_dump(doc))
    assert st.service.reload()
    try:
        page = requests.get(base, timeout=10).text
        assert 'data-rule="spin"' in page and str(workspace.root / "in2") in page
        assert "<option >spin</option>" in requests.get(f"{base}/jobs", timeout=10).text.replace(
            "<option>", "<option >"
        )
    finally:
        observer = st.service.observer  # armed by the reload: stopped here (not started)
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
