"""Drill 5, security (issue 7, RELIABILITY §5): where the API key may and may not go, the
download host, output modes, and files outside the watch roots.

The key never appears in logs, sidecars, ``status --json`` and other CLI output, exception
texts, the job store's bytes, or ``/proc/<pid>/cmdline`` of a running service; a key file works
without ``VIGGLE_API_KEY``. Only the API gets the ``Authorization`` header, never the CDN, and
plain ``http://`` downloads are refused off loopback. Outputs get the rule's ``output_mode``.
Manifests cannot name files outside the watch root (``../``, absolute, ``~``, symlinks).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import structlog
from conftest import KEY, MakeConfig, Stepper, Workspace, wait_for

from viggle_watch.apikey import ApiKey
from viggle_watch.app.service import build_service
from viggle_watch.clock import FakeClock
from viggle_watch.config import load_config
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.errors import ApiError, ConfigError, DownloadError
from viggle_watch.logs import configure_logging
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import TERMINAL, State
from viggle_watch.viggle.client import Timeouts, ViggleClient
from viggle_watch.viggle.inputs import UploadInput

CLI = [sys.executable, "-m", "viggle_watch"]
TAIL = KEY[len("sk-test-") :]  # a partial leak counts too
NOISY = ("apscheduler", "apscheduler.scheduler", "watchdog", "urllib3", "werkzeug", "PIL")


def assert_no_key(text: str | bytes, where: str) -> None:
    blob = text.encode() if isinstance(text, str) else text
    assert KEY.encode() not in blob, f"the API key is in {where}"
    assert TAIL.encode() not in blob, f"part of the API key is in {where}"


@pytest.fixture
def only_key() -> Iterator[RunningEmulator]:
    """An emulator that accepts nothing but KEY: a render proves the key reached the API."""
    with serve(EmulatorConfig(latency_s=0.2, keys=frozenset({KEY}))) as running:
        yield running


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """The service's logs as JSON lines in memory (the logging setup restored afterwards)."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, structlog.get_config())
    levels = {name: logging.getLogger(name).level for name in NOISY}
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    yield buffer
    handlers, level, config = saved
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**config)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def render_one(st: Stepper, workspace: Workspace, name: str = "alice.png") -> None:
    make_character_png(workspace.watch / name, seed=len(name))
    assert st.ingest() == 1
    st.run_until(lambda: st.service.store.counts()[State.DONE] >= 1, seconds=0.3)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- the key: logs, sidecars, the store, exceptions, the CLI, a running process ---------


def test_the_key_is_in_no_log_line_sidecar_or_store_byte(
    log_buffer: io.StringIO, stepper_for: Any, workspace: Workspace, only_key: RunningEmulator
) -> None:
    """A render, a refused file and log lines that carry the key on purpose (a header, a
    signed URL, an exception, a stdlib logger): the JSON log, every sidecar and every byte of
    state.db, -wal and -shm hold neither the key nor its tail."""
    st: Stepper = stepper_for(only_key.url)
    (workspace.watch / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    render_one(st, workspace)
    log = structlog.get_logger("probe")
    log.warning(
        "probe",
        authorization=f"Bearer {KEY}",
        url=f"https://cdn.example.com/r.mp4?token={KEY}",
        nested={"headers": {"Authorization": KEY}, "list": [f"key={KEY}"]},
        text=f"the key is {KEY}",
    )
    try:
        raise RuntimeError(f"request failed with Authorization: Bearer {KEY}")
    except RuntimeError:
        log.exception("probe_exception")
    logging.getLogger("urllib3.connectionpool").warning("sent header Bearer %s", KEY)
    logs = log_buffer.getvalue()
    assert "job_finished" in logs and "input_rejected" in logs and "probe_exception" in logs
    assert_no_key(logs, "the JSON log")
    sidecars = [*workspace.output.glob("*.json"), *workspace.watch.rglob("*.error.json")]
    assert len(sidecars) == 2
    for sidecar in sidecars:
        assert_no_key(sidecar.read_bytes(), str(sidecar))
    store = files_under(st.service.config.state_dir)
    assert {p.name for p in store} >= {"state.db", "state.db-wal"}
    for path in store:
        assert_no_key(path.read_bytes(), str(path))
    st.service.db.close()
    for path in files_under(st.service.config.state_dir):  # after the WAL is checkpointed
        assert_no_key(path.read_bytes(), str(path))


def caught(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    pytest.fail(f"{call} raised nothing")


def every_text_of(exc: BaseException) -> str:
    """str, repr and the formatted traceback of ``exc`` and of every exception it chains."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), "".join(traceback.format_exception(seen))]
        texts += [repr(a) for a in seen.args]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)


def test_no_exception_text_or_repr_carries_the_key(
    only_key: RunningEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    """404, 401 (a wrong key: neither key shows), refused connection, 400 for a bad upload,
    refused and expired downloads: str, repr and traceback (with chained causes) are clean;
    so are the reprs of the key, the client and a built service."""
    wrong = "sk-wrong-987654321fedcba"
    fast = Timeouts(connect_s=2, read_s=5, get_attempts=1)
    client = ViggleClient(only_key.url, ApiKey(KEY), timeouts=fast)
    offline = ViggleClient(f"http://127.0.0.1:{free_port()}", ApiKey(KEY), timeouts=fast)
    text = tmp_path / "text.png"
    text.write_text("not an image", encoding="utf-8")
    signed = f"http://cdn.example.com/r.mp4?sig={KEY}"
    calls: list[Callable[[], object]] = [
        lambda: client.get_render("job_does_not_exist"),
        lambda: ViggleClient(only_key.url, ApiKey(wrong), timeouts=fast).credits(retry=False),
        lambda: offline.credits(retry=False),
        lambda: offline.render(UploadInput(text, workspace.scene)),
        lambda: client.render(UploadInput(text, workspace.scene)),
        lambda: client.download(signed, io.BytesIO(), max_bytes=1024),
        lambda: client.download(
            f"{only_key.url}/cdn/nope.mp4?sig={KEY}", io.BytesIO(), max_bytes=9
        ),
    ]
    errors = [caught(call) for call in calls]
    assert all(isinstance(e, ApiError) for e in errors), errors
    assert {type(e).__name__ for e in errors} >= {
        "NotFoundError",
        "AuthError",
        "NotSentError",
        "RejectedError",
        "DownloadError",
    }
    for error in errors:
        assert_no_key(every_text_of(error), f"{type(error).__name__}: {error}")
        assert wrong not in every_text_of(error)
    assert_no_key(repr(ApiKey(KEY)) + str(ApiKey(KEY)) + repr(client), "a repr")
    with pytest.raises(TypeError):
        pickle.dumps(ApiKey(KEY))


def test_a_key_pasted_into_the_wrong_config_field_is_not_echoed(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"api: {{base_url: {KEY}}}\nstate_dir: state\nrules: []\n", encoding="utf-8")
    error = caught(lambda: load_config(config))
    assert isinstance(error, ConfigError)
    assert_no_key(str(error), "the ConfigError")


def test_status_json_and_the_cli_never_show_the_key(
    stepper_for: Any, workspace: Workspace, only_key: RunningEmulator
) -> None:
    """status --json, jobs list/show --json, plan --json and check-config, with the key in the
    environment and a done job in the store: the key is in none of their output."""
    st: Stepper = stepper_for(only_key.url)
    render_one(st, workspace)
    config = str(st.service.config.source)
    env = {**os.environ, "VIGGLE_API_KEY": KEY}
    commands = [
        ["status", "--config", config, "--json"],
        ["status", "--config", config],
        ["jobs", "list", "--config", config, "--json"],
        ["jobs", "show", "1", "--config", config, "--json"],
        ["plan", "--config", config, "--json"],
        ["check-config", config],
    ]

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        results = list(pool.map(run, commands))
    for args, result in zip(commands, results, strict=True):
        assert result.returncode == 0, (args, result.stderr)
        assert_no_key(result.stdout + result.stderr, f"`{' '.join(args[:2])}`")
    status = json.loads(results[0].stdout)
    assert status["counts"]["done"] == 1
    assert "API key: found" in results[-1].stdout


def test_a_running_service_reads_a_key_file_and_shows_it_nowhere(
    make_config: MakeConfig, workspace: Workspace, only_key: RunningEmulator
) -> None:
    """`run` with api.key_file and no VIGGLE_API_KEY: it renders (the emulator takes only that
    key), and neither /proc/PID/cmdline nor /proc/PID/environ nor its logs hold the key."""
    key_file = workspace.root / "api-key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    config = make_config(only_key.url, api={"base_url": only_key.url, "key_file": "api-key"})
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIGGLE_API_KEY", "CREDENTIALS_DIRECTORY")
    }
    log_path = workspace.root / "service.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*CLI, "--log-format", "json", "run", "--config", str(config.source)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: (config.state_dir / "viggle-watch.pid").exists(), what="started")
            proc_files = [Path(f"/proc/{proc.pid}/cmdline"), Path(f"/proc/{proc.pid}/environ")]
            for path in proc_files:
                assert_no_key(path.read_bytes(), str(path))
            make_character_png(workspace.watch / "alice.png")
            wait_for(lambda: (workspace.output / "alice__dance.json").exists(), what="render")
            for path in proc_files:
                assert_no_key(path.read_bytes(), str(path))
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    logs = log_path.read_text(encoding="utf-8")
    assert "service_started" in logs and "job_finished" in logs
    assert_no_key(logs, "the service's log")
    stats = only_key.emulator.stats()
    assert len(stats["render_submissions"]) == 1
    assert stats["cdn_requests_with_auth"] == 0


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
    rule = {
        "name": "dance",
        "kind": "characters",
        "watch": "in",
        "output": "out",
        "background_mode": "transparent",
        "scenes": [{"video": "assets/dance.mp4"}],
    }
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
    rule = {
        "name": "dance",
        "kind": "characters",
        "watch": "in",
        "output": "out",
        "output_mode": mode,
        "background_mode": "transparent",
        "scenes": [{"video": "assets/dance.mp4"}],
    }
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
