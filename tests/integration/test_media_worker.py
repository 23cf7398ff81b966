"""The child that measures renders for the acceptance gate (issue 16): kept while there is work
(one Python + PyAV start for many renders), started again after it exits idle or is killed, a
request's failure is that request's only, and close() ends it. Real processes, real files."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.support.waits import wait_for
from viggle_watch.errors import DownloadError
from viggle_watch.media.synth import make_result_mp4
from viggle_watch.render.children import MediaWorker


@pytest.fixture
def render(tmp_path: Path) -> Path:
    path = tmp_path / "render.mp4"
    path.write_bytes(make_result_mp4(2.0))
    return path


def pid_of(worker: MediaWorker) -> int:
    proc = worker._proc  # the child, for the test to watch
    assert proc is not None
    return proc.pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_one_child_measures_many_renders(render: Path, tmp_path: Path) -> None:
    mask = tmp_path / "mask.mp4"
    mask.write_bytes(make_result_mp4(2.0, mask=True))
    worker = MediaWorker()
    try:
        first = worker.ask([str(render)], what="x")
        pid = pid_of(worker)
        second = worker.ask([str(render), str(mask)], what="x")
        assert pid_of(worker) == pid
        assert first["video"]["frames"] == second["video"]["frames"] == 16
        assert first["mask"] is None and second["mask"]["coverage_max"] > 0.1
    finally:
        worker.close()
    wait_for(lambda: not alive(pid), timeout_s=10)


def test_a_bad_request_fails_alone_and_the_child_goes_on(render: Path, tmp_path: Path) -> None:
    worker = MediaWorker()
    try:
        worker.ask([str(render)], what="x")
        pid = pid_of(worker)
        with pytest.raises(DownloadError, match="the render could not be measured"):
            worker.ask([], what="the render could not be measured")  # no path at all
        missing = worker.ask([str(tmp_path / "gone.mp4")], what="x")
        assert missing["video"]["error"] and missing["video"]["frames"] == 0
        assert pid_of(worker) == pid
    finally:
        worker.close()


def test_a_child_that_exited_idle_or_was_killed_is_started_again(render: Path) -> None:
    worker = MediaWorker(idle_s=0.2)
    try:
        worker.ask([str(render)], what="x")
        idle = pid_of(worker)
        wait_for(lambda: not alive(idle) or worker._proc is None or worker._proc.poll() is not None)
        assert worker.ask([str(render)], what="x")["video"]["frames"] == 16
        killed = pid_of(worker)
        assert killed != idle
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: worker._proc is not None and worker._proc.poll() is not None)
        assert worker.ask([str(render)], what="x")["video"]["frames"] == 16
        assert pid_of(worker) != killed
    finally:
        worker.close()
