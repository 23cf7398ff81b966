"""Drill 5, security (issue 7, docs/reliability.md §5), where bytes may go: only the API gets the
``Authorization`` header, never the CDN, and plain ``http://`` downloads are refused off
loopback; outputs get the rule's ``output_mode``; manifests cannot name files outside the watch
root (``../``, absolute, ``~``, symlinks), nor can an input swapped for a symlink be sent.

Where the key itself may and may not go: ``test_security.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.security import caught, render_one
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, MakeConfig, Workspace, dance_rule
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.clock import FakeClock
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.errors import DownloadError
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import TERMINAL, State
from viggle_watch.viggle.client import ViggleClient

# -- the network: the key goes to the API only; downloads are https off loopback --------


class RecordingSession(requests.Session):
    """Records every request; anything but loopback fails like a network that is not there."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        self.sent.append((request.method or "", url, dict(request.headers)))
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise requests.ConnectionError(f"no network in tests ({host})")
        return super().send(request, **kwargs)


def test_the_key_goes_to_the_api_and_never_to_the_cdn(
    make_config: MakeConfig, workspace: Workspace, only_key: RunningEmulator
) -> None:
    """A transparent render (video and mask downloaded): every API request carries the key,
    no CDN request carries any Authorization; the emulator counts none either."""
    rule = dance_rule(background_mode="transparent")
    session = RecordingSession()
    clock = FakeClock(start=time.time())
    config = make_config(only_key.url, rules=[rule])
    service = build_service(config, ApiKey(KEY), clock=clock, session=session)
    try:
        render_one(Stepper(service, clock), workspace)
    finally:
        service.db.close()
    cdn = [(url, headers) for _, url, headers in session.sent if "/cdn/" in url]
    api = [(url, headers) for _, url, headers in session.sent if "/api/" in url]
    assert len(cdn) >= 2 and len(api) >= 3
    assert [url for url, headers in cdn if "Authorization" in headers] == []
    assert all(headers.get("Authorization") == f"Bearer {KEY}" for _, headers in api)
    assert only_key.emulator.stats()["cdn_requests_with_auth"] == 0
    assert (workspace.output / "alice__dance.mask.mp4").exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/r.mp4?sig=abc&exp=1",
        "http://localhost.example.com/r.mp4",
        "http://127.0.0.1.nip.io/r.mp4",
        "http://10.0.0.7/r.mp4",
        "http://0.0.0.0:8080/r.mp4",
        "ftp://cdn.example.com/r.mp4",
        "file:///etc/passwd",
    ],
)
@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8377", "https://apis.viggle.ai"])
def test_a_plain_http_download_off_loopback_is_refused_before_any_request(
    url: str, base_url: str
) -> None:
    """DownloadError at once, not one request made, the URL's query not in the message."""
    session = RecordingSession()
    client = ViggleClient(base_url, ApiKey(KEY), session=session)
    error = caught(lambda: client.download(url, io.BytesIO(), max_bytes=1024))
    assert isinstance(error, DownloadError)
    assert "refusing" in str(error) and "sig=abc" not in str(error)
    assert session.sent == []


def test_https_downloads_and_the_loopback_emulator_are_allowed() -> None:
    """The guard refuses only what it should: https anywhere is attempted (the test network
    refuses it), and http on loopback is allowed for the emulator."""
    session = RecordingSession()
    client = ViggleClient("http://127.0.0.1:8377", ApiKey(KEY), session=session)
    error = caught(
        lambda: client.download("https://cdn.example.com/r.mp4", io.BytesIO(), max_bytes=9)
    )
    assert isinstance(error, DownloadError) and "refusing" not in str(error)
    with serve(EmulatorConfig(latency_s=0.1)) as emu:
        error = caught(
            lambda: client.download(f"{emu.url}/cdn/nope.mp4", io.BytesIO(), max_bytes=9)
        )
    assert isinstance(error, DownloadError) and error.expired
    assert [url.split("/")[2] for _, url, _ in session.sent] == [
        "cdn.example.com",
        emu.url.split("/")[2],
    ]
    assert all("Authorization" not in headers for _, _, headers in session.sent)


def test_http_on_loopback_is_refused_when_the_api_is_not_loopback() -> None:
    session = RecordingSession()
    client = ViggleClient("https://apis.viggle.ai", ApiKey(KEY), session=session)
    with serve(EmulatorConfig(latency_s=0.1)) as emu:
        error = caught(lambda: client.download(f"{emu.url}/cdn/x.mp4", io.BytesIO(), max_bytes=9))
    assert isinstance(error, DownloadError)
    assert session.sent == []


# -- outputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "umask"), [("0640", 0o022), ("0604", 0o077)])
def test_outputs_get_the_configured_mode_whatever_the_umask(
    stepper_for: Any, workspace: Workspace, only_key: RunningEmulator, mode: str, umask: int
) -> None:
    """output_mode applies to the video, the mask and the sidecar, with any umask."""
    rule = dance_rule(output_mode=mode, background_mode="transparent")
    st: Stepper = stepper_for(only_key.url, rules=[rule])
    old = os.umask(umask)
    try:
        render_one(st, workspace)
    finally:
        os.umask(old)
    outputs = ["alice__dance.mp4", "alice__dance.mask.mp4", "alice__dance.json"]
    modes = {name: oct((workspace.output / name).stat().st_mode & 0o777) for name in outputs}
    assert modes == dict.fromkeys(outputs, oct(int(mode, 8)))


# -- manifests and symlinks: nothing outside the watch root is ever sent ----------------


def test_manifests_cannot_reach_outside_the_watch_root(
    stepper_for: Any, workspace: Workspace, only_key: RunningEmulator
) -> None:
    """../, ../ after a subfolder, absolute, ~, a climbing scene or mapping, a symlinked file,
    a symlinked folder, a job folder's job.yaml and a job folder holding a symlink: each is
    refused with a reason, and not one API call is made."""
    secret = workspace.root / "secret.png"
    make_character_png(secret, seed=77)
    elsewhere = workspace.root / "elsewhere"
    elsewhere.mkdir()
    make_character_png(elsewhere / "secret.png", seed=78)
    make_character_png(workspace.watch / "ok.png", seed=79)
    make_driving_mp4(workspace.watch / "ok.mp4", seconds=1.0)
    (workspace.watch / "link.png").symlink_to(secret)
    (workspace.watch / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    manifests = {
        "climb.job.yaml": "character: ../secret.png\nscene: ok.mp4\n",
        "sub-climb.job.yaml": "character: sub/../../secret.png\nscene: ok.mp4\n",
        "absolute.job.yaml": f"character: {secret}\nscene: ok.mp4\n",
        "home.job.yaml": "character: ~/secret.png\nscene: ok.mp4\n",
        "scene-climb.job.yaml": "character: ok.png\nscene: ../assets/dance.mp4\n",
        "mapping-climb.job.yaml": "template: 770e8400-e29b-41d4-a716-446655440000\n"
        "mode: preprocessed\nmapping: {person_a1b2c3d4: ok.png, person_e5f6a7b8: ../secret.png}\n",
        "link.job.yaml": "character: link.png\nscene: ok.mp4\n",
        "linkdir.job.yaml": "character: linkdir/secret.png\nscene: ok.mp4\n",
    }
    for name, text in manifests.items():
        (workspace.watch / name).write_text(text, encoding="utf-8")
    folder = workspace.watch / "job-1"
    folder.mkdir()
    (folder / "job.yaml").write_text("character: ../../secret.png\nscene: ../ok.mp4\n")
    (folder / "READY").write_text("")
    linked = workspace.watch / "job-2"
    linked.mkdir()
    (linked / "alice.png").symlink_to(secret)
    make_driving_mp4(linked / "moves.mp4", seconds=1.0)
    (linked / "READY").write_text("")
    st: Stepper = stepper_for(
        only_key.url, rules=[{"name": "jobs", "kind": "jobs", "watch": "in", "output": "out"}]
    )
    st.ingest()
    st.step()
    codes = {}
    for name in [*manifests, "job-1", "job-2"]:
        sidecar = workspace.watch / "failed" / f"{name}.error.json"
        codes[name] = (
            json.loads(sidecar.read_text(encoding="utf-8"))["code"] if sidecar.exists() else None
        )
    outside = {"link.job.yaml", "linkdir.job.yaml", "job-2"}
    assert codes == {n: "outside_root" if n in outside else "bad_manifest" for n in codes}
    assert st.service.store.latest() == []
    assert only_key.emulator.stats()["calls"] == {}
    assert secret.is_file() and (elsewhere / "secret.png").is_file()


def test_a_manifest_output_name_cannot_leave_the_output_folder(
    stepper_for: Any, workspace: Workspace, only_key: RunningEmulator
) -> None:
    """`output: ../../evil` renders inside the rule's output folder, under a safe name."""
    make_character_png(workspace.watch / "ok.png", seed=80)
    make_driving_mp4(workspace.watch / "ok.mp4", seconds=1.0)
    (workspace.watch / "m.job.yaml").write_text(
        "character: ok.png\nscene: ok.mp4\noutput: ../../evil\n", encoding="utf-8"
    )
    st: Stepper = stepper_for(
        only_key.url, rules=[{"name": "jobs", "kind": "jobs", "watch": "in", "output": "out"}]
    )
    assert st.ingest() == 1
    st.run_until(lambda: st.state() in TERMINAL, seconds=0.3)
    job = st.service.store.get(1)
    assert job is not None and job.state == State.DONE and job.output_path
    output = Path(job.output_path)
    assert output.parent == workspace.output and output.is_file()
    assert not list(workspace.root.parent.glob("evil*")) and not list(workspace.root.glob("evil*"))


def test_an_input_swapped_for_a_symlink_after_queueing_is_not_sent(
    stepper_for: Any, workspace: Workspace, only_key: RunningEmulator
) -> None:
    secret = workspace.root / "secret.png"
    make_character_png(secret, seed=81)
    st: Stepper = stepper_for(only_key.url)
    make_character_png(workspace.watch / "alice.png", seed=82)
    assert st.ingest() == 1
    swap = workspace.watch / ".swap"
    swap.symlink_to(secret)
    swap.replace(workspace.watch / "alice.png")
    st.run_until(lambda: st.state() in (*TERMINAL, State.UNCERTAIN), seconds=0.3)
    sent = {s["ref_image_sha256"] for s in only_key.emulator.stats()["render_submissions"]}
    assert hashlib.sha256(secret.read_bytes()).hexdigest() not in sent
