"""One live process per ``store.host`` (issue 19 §3): the store's heartbeat row names the process
that holds the name (an instance id, its pid, the pid space it runs in and the machine's name).

A service about to start reads that row and :func:`judge_name` says whether it may take the
name: yes when nobody holds it, its holder stopped cleanly, or its holder's pid is gone from
this very machine (a restart after a crash need not wait out the lease); no while another
process's heartbeat is fresher than the lease. A holder silent for longer than the lease has
its name taken; if it wakes, its next heartbeat finds another instance in the row
(:func:`lost_words`) and it stops at once. The verdicts are pure; reading the machine's
identity and whether a pid runs are the two small I/O helpers at the end.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from viggle_watch.app.lock import Holder, LockedError
from viggle_watch.clock import iso
from viggle_watch.errors import NotReadyError
from viggle_watch.store.hosts import Host

BOOT_ID: Final = Path("/proc/sys/kernel/random/boot_id")
PID_NAMESPACE: Final = Path("/proc/self/ns/pid")


class NameTakenError(NotReadyError):
    """Another live process holds this service's ``store.host`` (exit 75: try again later)."""


@dataclass(frozen=True, slots=True)
class Process:
    """Who this service is, as its heartbeat row says it."""

    instance: str  # new at every start
    pid: int
    machine: str  # the pid space: boot id and pid namespace ("" when unknown)
    node: str  # the machine's host name, for people


@dataclass(frozen=True, slots=True)
class NameVerdict:
    start: bool
    words: str  # why, for the log (and the refusal's message)
    note: str = ""  # a conflict worth showing in `status` (empty: none)


def judge_name(
    found: Host | None, me: Process, *, now: float, lease_s: float, pid_running_here: bool
) -> NameVerdict:
    """May ``me`` take its host name, given the heartbeat row ``found``?

    ``pid_running_here``: whether ``found.pid`` is a running process in this pid space; only
    looked at when ``found`` ran on this machine (same boot, same pid namespace)."""
    if found is None:
        return NameVerdict(True, "no process held this name")
    if found.instance == me.instance:
        return NameVerdict(True, "this process holds it")
    if found.pid == 0:
        return NameVerdict(True, "its last holder stopped cleanly")
    here = _here(found, me)
    if here and not pid_running_here:
        return NameVerdict(True, f"its last holder, pid {found.pid} on this machine, is gone")
    silent = now - found.seen_at
    holder = _who(found, here)
    if silent < lease_s:
        return NameVerdict(
            False,
            f"the store host name {found.name!r} is held by another running viggle-watch: "
            f"{holder} (started {iso(found.started_at)}, last seen {max(silent, 0.0):.0f} s ago)."
            " Give each service its own store.host, or stop that one first (a holder that "
            f"died lets go of the name within the lease, {lease_s:.0f} s)",
            f"a second viggle-watch (pid {me.pid} on {me.node}) was refused this name: "
            f"{holder} held it",
        )
    why = f"taken from {holder}, silent for {silent:.0f} s (longer than the lease, {lease_s:.0f} s)"
    # still running on this very machine: alive but stuck (it stops once it wakes)
    return NameVerdict(True, why, f"{why} by pid {me.pid} on {me.node}" if here else "")


def lost_words(found: Host | None, me: Process, name: str) -> str:
    """Why a running service stops: its heartbeat found its name held by another instance."""
    held = "nobody holds it" if found is None else f"held by {_who(found, _here(found, me))}"
    return (
        f"this service (pid {me.pid} on {me.node}) lost its store host name {name!r} to another "
        f"process ({held}): two services ran under one name, so it stops all work at once. "
        "Give each service its own store.host"
    )


def lost_note(found: Host | None, me: Process) -> str:
    """The same, as ``status`` shows it on the host's row."""
    by = "" if found is None else f" to pid {found.pid} on {found.node or 'an unnamed machine'}"
    return f"pid {me.pid} on {me.node} lost this name{by} and stopped"


def _here(found: Host, me: Process) -> bool:
    return bool(found.machine) and found.machine == me.machine


def _who(found: Host, here: bool) -> str:
    return f"pid {found.pid} on {'this machine' if here else found.node or 'another machine'}"


# ----------------------------------------------------------------------------- the machine


def this_process() -> Process:
    """This process, with a new instance id."""
    return Process(uuid.uuid4().hex, os.getpid(), this_machine(), socket.gethostname())


def this_machine() -> str:
    """The pid space this process runs in: the kernel's boot id and its pid namespace. Two
    processes with the same value can see each other's pids; "" when it cannot be told (then
    only the lease says whether a holder is alive)."""
    try:
        boot = BOOT_ID.read_text(encoding="ascii").strip()
        namespace = str(PID_NAMESPACE.readlink())
    except OSError:
        return ""
    return f"{boot}/{namespace}" if boot and namespace else ""


def pid_running(pid: int) -> bool:
    """Whether ``pid`` is a live process in this pid space (a zombie is not: it has ended)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): it runs
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def name_in_use(host: str, where: str, found: Host | None) -> LockedError:
    """The refusal when another service holds the name's lock (``Backend.claim_host``),
    naming that process as its heartbeat row does."""
    if found is None or found.pid == 0:
        return LockedError(f"the store host name {host!r} ({where})", None)
    holder = Holder(found.pid, found.started_at, found.node)
    return LockedError(f"the store host name {host!r} ({where}) from {found.node}", holder)
