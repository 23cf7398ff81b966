"""Drill 5, security (issue 7, docs/reliability.md §5): where the API key may and may not go.

The key never appears in logs, sidecars, ``status --json`` and other CLI output, exception
texts, the job store's bytes, or ``/proc/<pid>/cmdline`` of a running service; a key file works
without ``VIGGLE_API_KEY``. The download host, output modes and files outside the watch roots:
``test_security_bounds.py``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import signal
import socket
import subprocess
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.support.cli import CLI
from tests.support.logs import logs_into
from tests.support.security import caught, render_one
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.apikey import ApiKey
from viggle_watch.config import load_config
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.errors import ApiError, ConfigError
from viggle_watch.media.synth import make_character_png
from viggle_watch.viggle.client import Timeouts, ViggleClient
from viggle_watch.viggle.inputs import UploadInput

TAIL = KEY[len("sk-test-") :]  # a partial leak counts too


def assert_no_key(text: str | bytes, where: str) -> None:
    blob = text.encode() if isinstance(text, str) else text
    assert KEY.encode() not in blob, f"the API key is in {where}"
    assert TAIL.encode() not in blob, f"part of the API key is in {where}"


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """The service's logs as JSON lines in memory (the logging setup restored afterwards)."""
    with logs_into(io.StringIO()) as buffer:
        yield buffer


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
