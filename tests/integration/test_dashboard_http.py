"""The dashboard's door and pages over plain HTTP (issue 18), without a browser: the CSRF
token and sign-out, failed sign-ins, read-only without a token, what the sign-in form reads,
odd cookies, job files only as plain files in the output folder, a page that is not there,
refused inputs apart from failed jobs, a reloaded config's rules, what the credits card
shows. The browser's side is in
``test_dashboard.py``."""

from __future__ import annotations

import re
from pathlib import Path

import requests
import yaml

from tests.support.web import TOKEN, Board
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State


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


def test_the_credits_card_says_it_shows_estimates_committed(board: Board) -> None:
    """The day's figure is the estimates held against the cap, not what Viggle charged: the
    card says so (issue 13 §10: never a guess shown as a fact)."""
    base, _st = board()
    card = requests.get(base, timeout=10).text.split("<h2>Credits</h2>", 1)[1]
    assert re.search(r"Committed today: <strong>0</strong>", card)
    assert "estimate, counted when it is submitted" in card
    assert "what Viggle charged is on each job" in card
    assert "No credits committed from" in card
