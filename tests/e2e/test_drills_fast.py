"""Fast variants of the fault-soak and disk-full drills: the very code of ``bench/drills``, at a
size that runs in CI. (The crash drill's fast variant is ``test_kill_drill.py``.)

``python -m pytest tests/e2e/test_drills_fast.py -s`` prints the figures of each run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.drills.diskfull import DiskSettings, run_diskfull
from tests.support.drills.soak import SoakSettings, run_soak
from tests.support.drills.tmpfs import tmpfs_unavailable

# Every fault at once. The rates of faults that end a job (5xx and dropped answers on the paid
# POST: uncertain; failed renders) are high; those that only delay it (429, truncated
# downloads) are lower, because the service's backoff doubles per retry (5 s, 10 s, 20 s, ...)
# and a chain of four would outlast the 60 s deadline by design, not by a bug.
FAST_SOAK = SoakSettings(
    jobs=40,
    deadline_s=60.0,
    seed=3,
    concurrency=10,
    poll_s=0.2,
    latency_s=0.5,
    latency_jitter_s=0.3,
    request_delay_s=0.01,
    rate_429=0.03,
    storm_rate_429=0.6,
    storm_at_s=2.0,  # one 1.5 s storm while the first submissions go out
    storm_every_s=1000.0,
    storm_len_s=1.5,
    rate_5xx=0.1,
    rate_drop=0.1,
    rate_truncate=0.04,
    cdn_expiry_s=2.0,
    rate_fail=0.1,
    fast_off_at_s=0.0,  # fast capacity comes back after 4 s
    fast_off_every_s=1000.0,
    fast_off_len_s=4.0,
)
ENDINGS = frozenset({"done", "failed", "uncertain"})


def test_fault_soak_every_job_ends_and_nothing_is_paid_twice(tmp_path: Path) -> None:
    """40 jobs under 429 storms, 5xx, dropped answers, truncated downloads, expiring URLs,
    failed renders and fast outages: each ends done, failed with a reason, or uncertain
    before the deadline; no input is submitted twice; every output is verified."""
    result = run_soak(tmp_path, FAST_SOAK)
    print("\n" + "\n".join(result.lines()))
    assert result.stuck == [], "jobs stuck after the deadline"

    assert result.lost == 0, "an input x scene has no job, or two"
    assert result.duplicates == 0, "an input was submitted twice"
    assert set(result.end_states) <= ENDINGS
    assert result.end_states["done"] > 0
    assert result.failed_without_reason == 0
    assert result.outputs.bad == 0, result.outputs.corrupt
    assert result.tick_crashes == 0
    # the drill did inject its faults (a vacuous pass would prove nothing)
    assert len(result.faults_injected) >= 5, result.faults_injected
    assert sum(result.faults_injected.values()) >= 20, result.faults_injected


def test_disk_full_loses_nothing_and_downloads_resume(tmp_path: Path) -> None:
    """Outputs on a full tmpfs: every job waits in `downloading` (no video, no .part); once
    space is freed every download resumes and lands, verified, with no .part left."""
    why = tmpfs_unavailable()
    if why is not None:
        pytest.skip(f"needs a tmpfs mount for a real ENOSPC: {why}")
    jobs = 6
    settings = DiskSettings(
        jobs=jobs, size_bytes=1024 * 1024, failures_each=1, deadline_s=60.0, seed=5
    )
    result = run_diskfull(tmp_path, settings)
    print("\n" + "\n".join(result.lines()))
    assert result.free_when_full < 4096
    assert result.states_while_full == {"downloading": jobs}
    assert result.jobs_hit == jobs, "every download met the full disk"
    assert (result.outputs_while_full, result.parts_while_full) == (0, 0)
    assert result.lost == 0
    assert result.end_states == {"done": jobs}
    assert result.outputs.verified == jobs
    assert result.outputs.bad == 0, result.outputs.corrupt
    assert result.tick_crashes == 0
