"""What the container does before the service starts, decided from its arguments, its
environment and who it runs as — no I/O here (``entry`` acts on the answer).

The linuxserver.io conventions: ``PUID``/``PGID`` name the user the service runs as (default
1000:1000), ``UMASK`` the mode mask of what it creates (default 022), ``TZ`` the time zone (read
by the C library itself). Started as root, the container switches to PUID:PGID before anything
else; started as another user (``--user``, compose's ``user:``), it runs as given."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from viggle_watch.serving import is_wildcard_host

DEFAULT_ID: Final = 1000
DEFAULT_CONFIG: Final = Path("/config/config.yaml")
MOUNTS: Final = (Path("/config"), Path("/data"))  # the image's volumes
MAX_ID: Final = 2**31 - 2  # the largest id Linux gives out ((uid_t)-1 means "no change")
_OCTAL: Final = re.compile(r"0?[0-7]{3}")


class ContainerError(ValueError):
    """A setting the container cannot start with, in words."""


@dataclass(frozen=True, slots=True)
class Start:
    """What to do: become ``run_as`` (uid, gid) or stay, the umask, then run ``argv`` —
    a viggle-watch command, or another program (``exec``: a shell, a one-off script)."""

    program: Literal["viggle-watch", "exec"]
    argv: list[str]
    run_as: tuple[int, int] | None
    umask: int
    notes: list[str] = field(default_factory=list)

    @property
    def service(self) -> bool:
        """Whether this start runs the service (`run`), which needs a config."""
        return self.program == "viggle-watch" and command_of(self.argv) == "run"


def command_of(argv: Sequence[str]) -> str | None:
    """The viggle-watch command in ``argv``, after the options that come before it
    (``--log-format console run`` is `run`)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--log-format":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _id(env: Mapping[str, str], name: str) -> int | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_ID:
        raise ContainerError(f"{name}={text!r}: a user or group id is a number from 0 to {MAX_ID}")
    return int(text)


def parse_umask(text: str) -> int:
    """``022``, ``0027``, ``002``: three octal digits, with an optional leading 0."""
    if not _OCTAL.fullmatch(text.strip()):
        raise ContainerError(f"UMASK={text!r}: a umask is three octal digits, like 022 or 002")
    return int(text.strip(), 8)


def in_user_namespace(uid_map: str) -> bool:
    """Whether ``/proc/self/uid_map`` says this container's root is not the machine's root
    (rootless Podman or Docker, userns-remap): anything but the one identity line."""
    return uid_map.split() != ["0", "0", "4294967295"]


def plan_start(
    argv: Sequence[str],
    env: Mapping[str, str],
    euid: int,
    commands: Collection[str],
    *,
    userns: bool = False,
) -> Start:
    """The whole decision. ``commands``: viggle-watch's command names; no arguments is `run`.
    ``userns``: the container's root is a user of the machine (rootless): without PUID it
    stays that user, whose files on the host are the person's own."""
    args = list(argv) or ["run"]
    is_ours = args[0] in commands or args[0].startswith("-")
    puid, pgid = _id(env, "PUID"), _id(env, "PGID")
    umask = parse_umask(env["UMASK"]) if env.get("UMASK", "").strip() else 0o022
    notes: list[str] = []
    run_as: tuple[int, int] | None = None
    if euid == 0 and userns and puid is None:
        notes.append(
            "a user namespace (rootless): running as the container's root, an unprivileged "
            "user on the host (your own, under rootless Podman or Docker); set PUID and PGID "
            "to run as another"
        )
    elif euid == 0:
        uid = DEFAULT_ID if puid is None else puid
        run_as = (uid, DEFAULT_ID if pgid is None else pgid)
        if uid == 0:
            notes.append("PUID=0: running as root (files it writes belong to root)")
    elif puid is not None and puid != euid:
        notes.append(
            f"PUID={puid} is not used: the container was started as uid {euid} (--user), "
            "and runs as that"
        )
    return Start(
        program="viggle-watch" if is_ours else "exec",
        argv=args,
        run_as=run_as,
        umask=umask,
        notes=notes,
    )


def config_path(argv: Sequence[str], env: Mapping[str, str]) -> Path:
    """The config a `run` reads: ``--config PATH`` (or ``--config=PATH``), else
    ``VIGGLE_WATCH_CONFIG``, else ``/config/config.yaml``."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.removeprefix("--config="))
    return Path(env.get("VIGGLE_WATCH_CONFIG") or DEFAULT_CONFIG)


def needs_owner(owner_uid: int, run_as: tuple[int, int], *, empty: bool, userns: bool) -> bool:
    """Whether a mount point should be handed to ``run_as``: only an empty one owned by root
    (what Docker makes for a bind-mounted folder that was not there), only for another user,
    and never in a user namespace (there the person's own folder looks root-owned). A folder
    with anything in it is someone's: never taken over, and nothing inside is touched."""
    return owner_uid == 0 and run_as[0] != 0 and empty and not userns


def folders_to_make(folders: Collection[Path], data: Path = MOUNTS[1]) -> list[Path]:
    """The rules' watch and output folders the container makes at start: those under its data
    volume only. Outside a container a missing watch folder may be a share not mounted yet, so
    the service never makes one; under ``/data`` the volume is there (Docker mounts it, or an
    anonymous one) and a missing folder is one nobody has made yet."""
    return sorted({f for f in folders if f != data and f.is_relative_to(data)})


def probe_address(listen: tuple[str, int]) -> tuple[str, str]:
    """Where the health probe connects for a ``web.listen`` address, and the ``Host`` it names
    (the listener's own address, which the Host check takes): a wildcard address is reached
    on loopback, inside the container."""
    host, port = listen
    loopback = "::1" if host == "::" else "127.0.0.1"
    connect = loopback if is_wildcard_host(host) else host
    named = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return connect, named
