"""Hooks end to end, the commands (run with sys.executable: the paths as arguments and in the
environment, failures noted with their stderr, a timeout enforced) and the runner's stop: what
is queued drains, a retry wait is cut short. Every outcome is noted in a real SQLite job store.
Webhooks: ``test_hooks.py``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.hooks import T0, Receiver, Rig, make_job, webhook
from viggle_watch.config.kinds import Hook
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.store.jobs import JobStore

# --- commands -------------------------------------------------------------------------------

RECORDER = """\
import json, os, sys
json.dump({"argv": sys.argv[2:],
           "env": {k: os.environ.get(k) for k in sys.argv[1].split(",")}},
          open(os.environ["HOOK_RESULT"], "w"))
"""


def command_hook(tmp_path: Path, source: str, *args: str) -> Hook:
    """A command hook running ``source`` as a script with this Python."""
    script = tmp_path / "hook_script.py"
    script.write_text(source, encoding="utf-8")
    return Hook(command=[sys.executable, str(script), *args])


def test_a_command_gets_the_paths_as_arguments_and_environment(
    hook_rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argv ends with the output and sidecar paths; env names the event and job, not the key."""
    result = tmp_path / "result.json"
    monkeypatch.setenv("HOOK_RESULT", str(result))
    monkeypatch.setenv("VIGGLE_API_KEY", "sk-never-for-hooks-123")
    names = "VIGGLE_WATCH_EVENT,VIGGLE_WATCH_JOB_ID,VIGGLE_WATCH_OUTPUT,VIGGLE_API_KEY"
    job, output = make_job(hook_rig.store), tmp_path / "hero__dance.mp4"
    hook = command_hook(tmp_path, RECORDER, names)
    hook_rig.runner.fire(
        job, "done", hook, output=output, sidecar=output.with_suffix(".json"), body=None
    )
    hook_rig.drain()
    assert json.loads(result.read_text(encoding="utf-8")) == {
        "argv": [str(output), str(output.with_suffix(".json"))],
        "env": {
            "VIGGLE_WATCH_EVENT": "done",
            "VIGGLE_WATCH_JOB_ID": str(job.id),
            "VIGGLE_WATCH_OUTPUT": str(output),
            "VIGGLE_API_KEY": None,
        },
    }
    assert hook_rig.notes(job) == ["hook on_done command: succeeded (exit 0)"]


def test_a_failing_command_is_noted_with_its_stderr(hook_rig: Rig, tmp_path: Path) -> None:
    """A non-zero exit: the note has the code and the end of stderr; the job is unchanged."""
    source = "import sys\nsys.stderr.write('x' * 500 + 'disk full\\n')\nsys.exit(3)\n"
    job = make_job(hook_rig.store)
    hook_rig.runner.fire(
        job, "failed", command_hook(tmp_path, source), output=None, sidecar=None, body=None
    )
    hook_rig.drain()
    [note] = hook_rig.notes(job)
    assert note == "hook on_failed command: failed: exit 3: " + "x" * 291 + "disk full"
    assert hook_rig.store.get(job.id) == job


def test_a_hanging_command_is_killed_at_its_timeout(
    store: JobStore, session: requests.Session, tmp_path: Path
) -> None:
    """Past ``command_timeout_s`` the command is killed and the hook noted as timed out."""
    runner = HookRunner(store, session, clock=lambda: T0, command_timeout_s=0.3)
    runner.start()
    job = make_job(store)
    hook = command_hook(tmp_path, "import time\ntime.sleep(30)\n")
    runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    assert runner.stop(5.0) is True
    notes = [e.detail for e in store.events(job.id)][1:]
    assert notes == ["hook on_done command: failed: timed out after 0.3s"]


def test_a_missing_program_is_noted(hook_rig: Rig, tmp_path: Path) -> None:
    """A command that cannot start is a failure note, not a crashed worker."""
    job = make_job(hook_rig.store)
    hook = Hook(command=[str(tmp_path / "no-such-program")])
    hook_rig.runner.fire(job, "done", hook, output=None, sidecar=None, body=None)
    noop = Hook(command=[sys.executable, "-c", "pass"])
    hook_rig.runner.fire(job, "done", noop, output=None, sidecar=None, body=None)
    hook_rig.drain()
    missing, ran = hook_rig.notes(job)
    assert (missing.startswith("hook on_done command: failed: cannot run: "), ran) == (
        True,
        "hook on_done command: succeeded (exit 0)",
    )


# --- lifecycle ------------------------------------------------------------------------------


def test_stop_drains_what_is_queued(store: JobStore, session: requests.Session) -> None:
    """Hooks fired before start and before stop all run; fire after stop is dropped."""
    runner = HookRunner(store, session, clock=lambda: T0, sleep=lambda _s: None)
    jobs = [make_job(store, key=f"k{i}") for i in range(3)]
    noop = Hook(command=[sys.executable, "-c", "pass"])
    runner.fire(jobs[0], "done", noop, output=None, sidecar=None, body=None)
    runner.start()
    for job in jobs[1:]:
        runner.fire(job, "done", noop, output=None, sidecar=None, body=None)
    assert runner.stop(5.0) is True
    runner.fire(jobs[0], "done", noop, output=None, sidecar=None, body=None)
    notes = [[e.detail for e in store.events(j.id)][1:] for j in jobs]
    assert notes == [["hook on_done command: succeeded (exit 0)"]] * 3


def test_stop_gives_up_retrying_when_its_time_is_up(
    store: JobStore, session: requests.Session, receiver: Receiver
) -> None:
    """A retry wait is cut short by stop; the next queued hook is noted as not run."""
    receiver.statuses = [503]
    runner = HookRunner(store, session, clock=lambda: T0)  # the real, interruptible sleep
    runner.start()
    first, second = make_job(store, "k1"), make_job(store, "k2")
    for job in (first, second):
        runner.fire(job, "done", webhook(receiver.url), output=None, sidecar=None, body=None)
    started = time.monotonic()
    assert runner.stop(0.2) is True
    assert time.monotonic() - started < 2.0
    assert [[e.detail for e in store.events(j.id)][1:] for j in (first, second)] == [
        ["hook on_done webhook: failed after 1 attempt: HTTP 503 (gave up: service stopping)"],
        ["hook on_done webhook: not run (service stopping)"],
    ]
