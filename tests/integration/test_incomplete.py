"""A copy that stalls longer than `settle` (a slow SMB client, a paused rsync) is not failed
for good: a file that looks cut off waits `incomplete_grace`, is taken once the rest arrives,
and is filed as failed only when its grace is over and it is still cut off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service


def halves(workspace: Workspace) -> tuple[bytes, bytes]:
    data = workspace.character(seed=7)
    return data[: len(data) // 2], data[len(data) // 2 :]


def test_a_stalled_copy_is_taken_once_the_rest_arrives(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Half a PNG: it waits (input_incomplete, nothing in failed/); the rest: one job."""
    st: Stepper = stepper_for("http://127.0.0.1:9", incomplete_grace="10m")
    head, tail = halves(workspace)
    target = workspace.watch / "alice.png"
    target.write_bytes(head)
    with capture_logs() as logs:
        waited = st.ingest()
    events = [e["event"] for e in logs]
    st.clock.advance(120)  # the copier wakes up two minutes later
    with target.open("ab") as f:
        f.write(tail)
    st.service.tracker.touch(target, st.clock.time())  # its write event
    assert (waited, "input_incomplete" in events, (workspace.watch / "failed").exists()) == (
        0,
        True,
        False,
    )
    assert st.ingest() == 1


def test_a_file_still_cut_off_after_its_grace_is_filed_as_failed(
    stepper_for: Any, workspace: Workspace
) -> None:
    """No more bytes come: after incomplete_grace it is judged once more and filed."""
    st: Stepper = stepper_for("http://127.0.0.1:9", incomplete_grace="60s")
    head, _ = halves(workspace)
    (workspace.watch / "bob.png").write_bytes(head)
    st.ingest()
    before = (workspace.watch / "failed" / "bob.png").exists()
    st.clock.advance(61)
    st.service.intake.tick(st.clock.time())  # the grace is over: settle it once more
    st.ingest()
    filed = workspace.watch / "failed" / "bob.png.error.json"
    assert (before, filed.exists(), Path(workspace.watch / "bob.png").exists()) == (
        False,
        True,
        False,
    )


def test_a_file_that_grows_in_failed_is_judged_again(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Filed as cut off after its grace, its copier still had it open and finished it there:
    the next rescan moves it back (its error file gone), and it becomes one job."""
    st: Stepper = stepper_for("http://127.0.0.1:9", incomplete_grace="0s")
    head, tail = halves(workspace)
    (workspace.watch / "carol.png").write_bytes(head)
    st.ingest()
    failed = workspace.watch / "failed" / "carol.png"
    assert failed.exists() and failed.with_name("carol.png.error.json").exists()
    with failed.open("ab") as f:  # the copy goes on, into the file that was moved
        f.write(tail)
    st.service.intake.rescan(st.clock.time())
    assert st.ingest() == 1
    assert not failed.exists() and not failed.with_name("carol.png.error.json").exists()
    job = st.service.store.get(1)
    assert job is not None and job.spec.character.path == str(workspace.watch / "carol.png")


def test_the_running_service_files_it_when_its_grace_ends_not_at_the_next_rescan(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """The real settle loop, on real threads: an idle loop sleeps until a file event, so a
    file that only waits on the clock must keep it ticking (it waited for the 5-minute rescan,
    seen by a new user as 4 minutes 24 s for a 3-minute grace)."""
    config = make_config("http://127.0.0.1:9", incomplete_grace="1s", rescan_interval="1h")
    service = build_service(config, ApiKey(KEY), tick_interval_s=0.2)
    service.start()
    try:
        head, _ = halves(workspace)
        (workspace.watch / "dave.png").write_bytes(head)
        filed = workspace.watch / "failed" / "dave.png.error.json"
        wait_for(filed.exists, timeout_s=30)  # the rescan is an hour away
    finally:
        service.stop()
    assert not (workspace.watch / "dave.png").exists()
