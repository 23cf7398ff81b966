"""Who may run under a store.host name (issue 19 §3): the verdict from the heartbeat row found,
this process, the time, the lease and whether the holder's pid runs here; and the words."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from viggle_watch.app.naming import (
    Process,
    judge_name,
    lost_note,
    lost_words,
    name_in_use,
    pid_running,
    this_machine,
)
from viggle_watch.store.hosts import Host

NOW = 1_700_000_000.0
LEASE = 60.0
ME = Process("me-instance", 500, "boot-1/pid:[1]", "render-01")


def row(
    *, pid: int = 400, machine: str = "boot-1/pid:[1]", seen_ago: float = 5.0, node: str = "r1"
) -> Host:
    return Host("render-01", "old-instance", pid, NOW - 3600, NOW - seen_ago, machine, node)


def judge(found: Host | None, *, running: bool = True) -> tuple[bool, str, str]:
    verdict = judge_name(found, ME, now=NOW, lease_s=LEASE, pid_running_here=running)
    return verdict.start, verdict.words, verdict.note


def test_a_name_nobody_held_or_held_by_a_clean_stop_is_taken() -> None:
    assert [judge(None)[:2], judge(row(pid=0))[:2]] == [
        (True, "no process held this name"),
        (True, "its last holder stopped cleanly"),
    ]


def test_a_crash_on_this_machine_is_seen_at_once_without_waiting_for_the_lease() -> None:
    """The holder ran in this pid space and its pid is gone: start, its heartbeat is fresh."""
    assert judge(row(seen_ago=1.0), running=False) == (
        True,
        "its last holder, pid 400 on this machine, is gone",
        "",
    )


@pytest.mark.parametrize(
    ("machine", "running", "where"),
    [
        ("boot-1/pid:[1]", True, "pid 400 on this machine"),  # its pid runs here
        ("boot-2/pid:[1]", False, "pid 400 on r1"),  # another machine: its pid says nothing
        ("boot-1/pid:[9]", False, "pid 400 on r1"),  # another pid namespace (a container)
        ("", False, "pid 400 on r1"),  # a row from before schema 8: only the lease tells
    ],
)
def test_a_live_holders_fresh_heartbeat_refuses_the_start_naming_it(
    machine: str, running: bool, where: str
) -> None:
    start, words, note = judge(row(machine=machine), running=running)
    assert (start, words.split(": ", 1)[1].split(" (started")[0], note) == (
        False,
        where,
        f"a second viggle-watch (pid 500 on render-01) was refused this name: {where} held it",
    )
    assert "held by another running viggle-watch" in words and "last seen 5 s ago" in words


@pytest.mark.parametrize(
    ("machine", "note"),
    [
        ("boot-2/pid:[1]", ""),  # another machine, silent: it died there (a plain take-over)
        (  # its pid still runs here, silent: stuck; it stops once it wakes (status shows it)
            "boot-1/pid:[1]",
            "taken from pid 400 on this machine, silent for 61 s (longer than the lease, 60 s)"
            " by pid 500 on render-01",
        ),
    ],
)
def test_a_holder_silent_for_longer_than_the_lease_loses_the_name(machine: str, note: str) -> None:
    start, words, noted = judge(row(machine=machine, seen_ago=61.0), running=True)
    assert (start, noted, words.startswith("taken from pid 400 on ")) == (True, note, True)


def test_a_heartbeat_from_a_clock_ahead_counts_as_fresh() -> None:
    assert judge(row(machine="other", seen_ago=-30.0))[0] is False


def test_this_process_own_row_is_its_own() -> None:
    mine = Host("render-01", ME.instance, ME.pid, NOW, NOW, ME.machine, ME.node)
    assert judge(mine)[0] is True


def test_the_words_of_a_lost_name_and_of_a_held_lock() -> None:
    taker = row(machine="boot-2/pid:[1]", node="r2")
    error = name_in_use("render-01", "PostgreSQL postgresql://db/viggle", taker)
    assert (lost_words(taker, ME, "render-01"), lost_note(None, ME), str(error)) == (
        "this service (pid 500 on render-01) lost its store host name 'render-01' to another "
        "process (held by pid 400 on r2): two services ran under one name, so it stops all "
        "work at once. Give each service its own store.host",
        "pid 500 on render-01 lost this name and stopped",
        "another viggle-watch (pid 400) is using the store host name 'render-01' "
        "(PostgreSQL postgresql://db/viggle) from r2",
    )


def test_a_pid_runs_until_it_ends_and_a_zombie_has_ended() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = pid_running(child.pid)
    finally:
        child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped: a zombie
    zombie = pid_running(child.pid)
    child.wait()
    assert (running, zombie, pid_running(child.pid), pid_running(0)) == (True, False, False, False)


def test_this_machine_names_the_boot_and_the_pid_namespace() -> None:
    machine = this_machine()
    if not machine:
        pytest.skip("no /proc boot id or pid namespace here")
    assert machine.split("/", 1)[1].startswith("pid:[")
