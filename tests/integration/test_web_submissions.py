"""Submissions (issue 18): `POST /api/v1/submissions` hands files to a rule through its watch
folder, so they take the path a dropped file takes; `GET /api/v1/submissions/{id}` says what the
intake made of them. The real service and its uvicorn listener on 127.0.0.1, asked with
`requests`; the stepper runs the intake (`st.ingest()`)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.web import TOKEN, Listeners
from tests.support.workspace import Workspace, dance_rule

AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOUNDARY = "vw-boundary-5b1f"
PAIRS = {"name": "duets", "kind": "pairs", "watch": "pairs", "output": "pairs-out"}
JOBS = {"name": "takes", "kind": "jobs", "watch": "jobs", "output": "jobs-out"}


class Serve(Protocol):
    def __call__(self, *, token: bool = True, **web: Any) -> tuple[str, Stepper]: ...


@pytest.fixture
def serve(listeners: Listeners, workspace: Workspace) -> Serve:
    """A factory: the service with a characters rule (``dance``, watching ``in/``), a pairs
    rule (``duets``, ``pairs/``) and a jobs rule (``takes``, ``jobs/``), ``web:`` with ``web``
    options, its listener started; the base URL and the stepper."""

    def factory(*, token: bool = True, **web: Any) -> tuple[str, Stepper]:
        for folder in ("pairs", "jobs"):
            (workspace.root / folder).mkdir(exist_ok=True)
        rules = [dance_rule(), PAIRS, JOBS]
        return listeners.start("http://127.0.0.1:9", token=token, web=web, rules=rules)

    return factory


def submit(base: str, rule: str | None, *files: tuple[str, bytes], **options: Any) -> Any:
    data = {"rule": rule} if rule is not None else {}
    parts = [("file", (name, body)) for name, body in files]
    headers = options.pop("headers", AUTH)
    return requests.post(
        f"{base}/api/v1/submissions",
        data=data,
        files=parts,
        headers=headers,
        timeout=30,
        **options,
    )


def look(base: str, submission_id: str) -> dict[str, Any]:
    answer = requests.get(f"{base}/api/v1/submissions/{submission_id}", timeout=10)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def listing(folder: Path) -> list[str]:
    """Every name in ``folder`` (hidden ones too), subfolders as NAME/."""
    return sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())


def test_a_submission_is_answered_at_once_then_gives_its_jobs(
    serve: Serve, workspace: Workspace
) -> None:
    """202 with an id while the file settles; once the intake has taken it, its job; the
    answer is the same from another service on the same state (a restart)."""
    base, st = serve()
    answer = submit(base, "dance", ("hero.png", workspace.character()))
    assert answer.status_code == 202, answer.text
    sub = answer.json()
    assert answer.headers["Location"] == f"/api/v1/submissions/{sub['id']}"
    assert (sub["state"], sub["jobs"], sub["rule"]) == ("pending", [], "dance")
    assert "stopped changing for 0.5 s" in sub["waits"]
    assert listing(workspace.watch) == ["hero.png"]  # no temp file left beside it
    assert [f["path"] for f in sub["files"]] == [str(workspace.watch / "hero.png")]
    assert st.ingest() == 1
    after = look(base, sub["id"])
    assert (after["state"], after["jobs"], after["reason"]) == ("accepted", [1], None)
    assert st.service.store.sources(1) == [str(workspace.watch / "hero.png")]
    again, _ = serve()  # another service on the same state directory
    assert look(again, sub["id"]) == after
    assert requests.get(f"{base}/api/v1/submissions/nope", timeout=10).status_code == 404
    spec = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()["paths"]
    form = spec["/api/v1/submissions"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert (form["schema"]["required"], "/api/v1/submissions/{submission_id}" in spec) == (
        ["rule", "file"],
        True,
    )


def test_a_bad_input_is_refused_with_the_intakes_reason(serve: Serve, workspace: Workspace) -> None:
    """A .png that is no image: filed in failed/ by the intake; the submission says why, and
    still does once the file has been moved on from failed/."""
    base, st = serve()
    sub = submit(base, "dance", ("broken.png", b"not an image at all" * 10)).json()
    st.ingest()
    refused = look(base, sub["id"])
    error = json.loads((workspace.watch / "failed" / "broken.png.error.json").read_text())
    assert (refused["state"], refused["code"], refused["jobs"]) == ("refused", "not_an_image", [])
    assert refused["reason"] == f"broken.png: {error['reason']}"
    assert refused["files"][0]["reason"] == error["reason"]
    shutil.rmtree(workspace.watch / "failed")  # the user clears failed/
    assert look(base, sub["id"]) == refused


def test_a_good_file_later_at_the_same_path_is_not_the_refused_ones(
    serve: Serve, workspace: Workspace
) -> None:
    """shot.png refused (moved to failed/), then a good shot.png at the same path: the first
    submission stays refused, asked first or not; the job is the second's."""
    base, st = serve()
    bad = submit(base, "dance", ("shot.png", b"not an image at all" * 10)).json()
    st.ingest()
    good = submit(base, "dance", ("shot.png", workspace.character())).json()
    assert [f["name"] for f in good["files"]] == ["shot.png"]  # the path was free again
    st.ingest()
    assert look(base, good["id"])["jobs"] == [1]
    first = look(base, bad["id"])
    assert (first["state"], first["jobs"]) == ("refused", [])


def test_a_duplicate_takes_a_free_name_and_is_said_to_repeat_a_job(
    serve: Serve, workspace: Workspace
) -> None:
    """The same picture again: placed as hero-2.png (never over hero.png), then found by the
    intake to repeat job 1 (the dedup key): filed in processed/, nothing new to pay."""
    base, st = serve()
    png = workspace.character()
    first = submit(base, "dance", ("hero.png", png)).json()
    st.ingest()
    second = submit(base, "dance", ("hero.png", png)).json()
    assert [f["name"] for f in second["files"]] == ["hero-2.png"]
    assert (workspace.watch / "hero.png").read_bytes() == png
    st.ingest()
    repeat = look(base, second["id"])
    assert (repeat["state"], repeat["jobs"], repeat["duplicate_of"]) == ("duplicate", [], [1])
    assert "queued before" in repeat["reason"]
    assert listing(workspace.watch / "processed") == ["hero-2.png"]
    assert look(base, first["id"])["jobs"] == [1]


def test_an_idempotency_key_answers_a_repeat_with_the_same_submission(
    serve: Serve, workspace: Workspace
) -> None:
    """Sent twice with one key: one submission, one file; the key on another rule: 409."""
    base, _st = serve()
    keyed = {**AUTH, "Idempotency-Key": "render-42"}
    png = workspace.character()
    first = submit(base, "dance", ("hero.png", png), headers=keyed)
    again = submit(base, "dance", ("hero.png", png), headers=keyed)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert listing(workspace.watch) == ["hero.png"]
    elsewhere = submit(base, "duets", ("hero.png", png), headers=keyed)
    assert elsewhere.status_code == 409 and first.json()["id"] in elsewhere.json()["detail"]
    bad_key = submit(base, "dance", ("hero.png", png), headers={**AUTH, "Idempotency-Key": ""})
    assert bad_key.status_code == 400


def test_one_key_sent_twice_at_once_keeps_one_submission(
    serve: Serve, workspace: Workspace
) -> None:
    """The second request of a key arrives while the first is still being written: whichever
    completes first is kept, the other answers it and leaves no file."""
    base, _st = serve()
    body, content_type = _multipart("dance", ("hero.png", workspace.character()))
    headers = {**AUTH, "Idempotency-Key": "twice", "Content-Type": content_type}
    go, answers = threading.Event(), []

    def slowly() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        go.wait(10)
        yield body[len(body) // 2 :]

    def send_slowly() -> None:
        url = f"{base}/api/v1/submissions"
        answers.append(requests.post(url, data=slowly(), headers=headers, timeout=30))

    first = threading.Thread(target=send_slowly)
    first.start()
    wait_for(lambda: any(n.startswith(".viggle-upload-") for n in listing(workspace.watch)))
    second = send_raw(base, (body, content_type), headers=headers)
    go.set()
    first.join(30)
    assert (second.status_code, answers[0].status_code) == (202, 202)
    assert answers[0].json()["id"] == second.json()["id"]
    assert answers[0].headers["Idempotent-Replayed"] == "true"
    assert listing(workspace.watch) == ["hero.png"]


def test_a_pair_is_submitted_together_and_keeps_its_stem(
    serve: Serve, workspace: Workspace
) -> None:
    """An image and a video for a pairs rule, while a hero.png already waits there: both
    become hero-2.* (one suffix), so they still pair: one job made from both."""
    base, st = serve()
    pairs = workspace.root / "pairs"
    (pairs / "hero.png").write_bytes(workspace.character(seed=7))
    video = workspace.scene.read_bytes()
    sub = submit(base, "duets", ("hero.png", workspace.character()), ("hero.mp4", video)).json()
    assert [f["name"] for f in sub["files"]] == ["hero-2.png", "hero-2.mp4"]
    st.ingest()
    made = look(base, sub["id"])
    assert (made["state"], made["jobs"]) == ("accepted", [1])
    assert [f["jobs"] for f in made["files"]] == [[1], [1]]
    lone = submit(base, "duets", ("solo.png", workspace.character(seed=3))).json()
    st.ingest()
    waiting = look(base, lone["id"])
    assert waiting["state"] == "pending" and "its partner: a video named solo.*" in waiting["waits"]


def test_a_manifest_comes_with_the_files_it_names(serve: Serve, workspace: Workspace) -> None:
    """A jobs rule: the manifest's job is the submission's, its files follow it. Names in use
    are refused (409), not numbered: the manifest would point at the files already there."""
    base, st = serve()
    manifest = b"character: hero.png\nscene: dance.mp4\n"
    files = [
        ("take.job.yaml", manifest),
        ("hero.png", workspace.character()),
        ("dance.mp4", workspace.scene.read_bytes()),
    ]
    sub = submit(base, "takes", *files).json()
    st.ingest()
    made = look(base, sub["id"])
    assert (made["state"], made["jobs"]) == ("accepted", [1])
    shown = [(f["name"], f["input"], f["state"], f["jobs"]) for f in made["files"]]
    assert shown == [
        ("take.job.yaml", True, "accepted", [1]),
        ("hero.png", False, "accepted", [1]),
        ("dance.mp4", False, "accepted", [1]),
    ]
    before = listing(workspace.root / "jobs")
    again = submit(base, "takes", *files)
    assert again.status_code == 409 and "is in the watch folder of rule takes" in again.text
    assert listing(workspace.root / "jobs") == before
    alone = submit(base, "takes", ("hero3.png", workspace.character(seed=3)))
    assert alone.status_code == 422 and "works from job manifests" in alone.text


def test_an_upload_over_max_upload_is_refused_and_leaves_nothing(
    serve: Serve, workspace: Workspace
) -> None:
    """Over web.max_upload: 413, said from Content-Length, or counted as the body streams in
    (chunked, no length); no file or temp file is left in the watch folder."""
    base, _st = serve(max_upload="64KiB")
    big = ("big.png", b"\x89PNG" + b"\0" * 100_000)
    told = submit(base, "dance", big)
    assert told.status_code == 413 and "web.max_upload (64 KiB)" in told.json()["detail"]
    body, content_type = _multipart("dance", big)
    streamed = requests.post(
        f"{base}/api/v1/submissions",
        data=iter([body[i : i + 8192] for i in range(0, len(body), 8192)]),  # chunked
        headers={**AUTH, "Content-Type": content_type},
        timeout=30,
    )
    assert streamed.status_code == 413
    assert listing(workspace.watch) == []
    small = submit(base, "dance", ("hero.png", workspace.character()))
    assert small.status_code == 202


def test_changes_need_the_token(serve: Serve, workspace: Workspace) -> None:
    """No token: 401; a service without a token file is read-only: 403. Nothing written."""
    base, _st = serve()
    png = ("hero.png", workspace.character())
    assert submit(base, "dance", png, headers={}).status_code == 401
    read_only, _ = serve(token=False)
    assert submit(read_only, "dance", png, headers={}).status_code == 403
    assert listing(workspace.watch) == []


@pytest.mark.parametrize(
    ("sent", "placed"),
    [
        ("../evil.png", "evil.png"),
        ("../../../../../../tmp/evil.png", "evil.png"),
        ("/etc/evil.png", "evil.png"),
        ("C:\\Users\\me\\evil.png", "evil.png"),
        ("sub/dir/evil.png", "evil.png"),
    ],
)
def test_a_path_in_the_name_is_cut_to_its_last_part(
    serve: Serve, workspace: Workspace, sent: str, placed: str
) -> None:
    """Whatever path the client sends, the file lands in the rule's watch folder itself."""
    base, _st = serve()
    answer = submit(base, "dance", (sent, workspace.character()))
    assert answer.status_code == 202, answer.text
    assert listing(workspace.watch) == [placed]
    folders = ["assets/", "in/", "jobs/", "jobs-out/", "out/", "pairs/", "pairs-out/", "state/"]
    assert listing(workspace.root) == sorted([*folders, "config.yaml"])


@pytest.mark.parametrize(
    ("rule", "sent", "words"),
    [
        ("nope", "hero.png", "there is no rule 'nope'; the rules configured: dance, duets, takes"),
        ("dance", "..", "names no file"),
        ("dance", "a/..", "names no file"),
        ("dance", "evil\x00.png", "control characters"),
        ("dance", "evil\n.png", "control characters"),
        ("dance", ".hidden.png", "the watcher ignores this name"),
        ("dance", "hero.png.part", "the watcher ignores this name"),
        ("dance", "notes.txt", "rule dance takes images (.jpeg .jpg .png .webp)"),
        ("dance", "dance.mp4", "rule dance takes images"),
    ],
)
def test_what_cannot_be_submitted_is_refused_in_words(
    serve: Serve, workspace: Workspace, rule: str, sent: str, words: str
) -> None:
    """An unknown rule, a name that is no file, one the watcher would ignore, or a kind of
    file the rule does not take: 422 with the reason, and nothing written. (The names are
    sent as written: `requests` would escape a line feed as %0A.)"""
    base, _st = serve()
    answer = send_raw(base, _multipart(rule, (sent, workspace.character())))
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]
    assert listing(workspace.watch) == []


def test_a_body_that_is_not_a_submission_is_refused(serve: Serve, workspace: Workspace) -> None:
    """Not multipart: 415; no rule, or the files before it: 422; no file: 422."""
    base, _st = serve()
    url = f"{base}/api/v1/submissions"
    as_json = requests.post(url, json={"rule": "dance"}, headers=AUTH, timeout=10)
    assert as_json.status_code == 415
    png = ("hero.png", workspace.character())
    assert "before the files" in submit(base, None, png).json()["detail"]
    late = send_raw(base, _multipart(None, png, then_rule="dance"))
    assert late.status_code == 422 and "before the files" in late.json()["detail"]
    empty = send_raw(base, _multipart("dance"))
    assert empty.status_code == 422 and "no file" in empty.json()["detail"]
    assert listing(workspace.watch) == []


def _multipart(
    rule: str | None, *files: tuple[str, bytes], then_rule: str | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body by hand (for a chunked upload, or the fields out of order)."""
    parts: list[bytes] = []
    if rule is not None:
        parts.append(_field(rule))
    parts.extend(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    )
    if then_rule is not None:
        parts.append(_field(then_rule))
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def _field(value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="rule"\r\n\r\n{value}\r\n'.encode()
    )


def send_raw(base: str, made: tuple[bytes, str], headers: dict[str, str] = AUTH) -> Any:
    """POST a body made by :func:`_multipart`, as it is."""
    body, content_type = made
    return requests.post(
        f"{base}/api/v1/submissions",
        data=body,
        headers={**headers, "Content-Type": content_type},
        timeout=10,
    )
