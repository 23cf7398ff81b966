"""The image's entry point, run by its init (``dumb-init``): switch to PUID:PGID, apply the
umask, write a starter config on the first start, make the dashboard's token when the config
names one that is not there yet, then run the command (docs/container.md).

Started as root it needs CAP_SETUID and CAP_SETGID to switch (in every runtime's default set),
and CAP_CHOWN only to hand a root-owned, Docker-made mount point to PUID. Started with
``--user`` it needs no capability at all."""

from __future__ import annotations

import errno
import os
import secrets
import sys
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from viggle_watch.cli.hold import hold
from viggle_watch.container.plan import (
    MOUNTS,
    ContainerError,
    Start,
    command_of,
    config_path,
    folders_to_make,
    in_user_namespace,
    needs_owner,
    plan_start,
)

EXIT_CONFIG = 2  # as the CLI's: a permanent error, fix the config first


def say(text: str) -> None:
    print(f"viggle-watch container: {text}", file=sys.stderr, flush=True)


def _command_names() -> frozenset[str]:
    from viggle_watch.cli.parser import command_names

    return command_names()


def _user_namespace() -> bool:
    try:
        return in_user_namespace(Path("/proc/self/uid_map").read_text(encoding="ascii"))
    except OSError:
        return False


def _hand_over_mounts(run_as: tuple[int, int], userns: bool) -> None:
    """Give an empty, root-owned, Docker-made mount point (the folder alone) to PUID:PGID."""
    for mount in MOUNTS:
        try:
            owner = mount.stat().st_uid
            empty = not any(mount.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            continue
        if needs_owner(owner, run_as, empty=empty, userns=userns):
            os.chown(mount, *run_as)
            say(f"{mount} was an empty folder of root's: given to {run_as[0]}:{run_as[1]}")


def _become(run_as: tuple[int, int]) -> None:
    uid, gid = run_as
    os.setgroups([])  # root's supplementary groups are not PGID's
    os.setgid(gid)
    os.setuid(uid)
    if os.environ.get("HOME", "/root") == "/root":
        os.environ["HOME"] = "/tmp"  # noqa: S108 - root's home is not the service user's


def _starter() -> str:
    return files("viggle_watch.container").joinpath("starter.yaml").read_text(encoding="utf-8")


def _unedited(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8") == _starter()
    except (OSError, UnicodeDecodeError):
        return False


def _write_starter(path: Path) -> None:
    text = _starter()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as out:  # never over a config that appeared
        out.write(text)
    say(f"no config at {path}: wrote a starter config there.")
    say("edit it (the rule's folders and scene; the key goes in VIGGLE_API_KEY or")
    say("VIGGLE_API_KEY_FILE, never in the file), then start the container again.")
    token = path.parent / "web-token"
    if not token.exists():
        _make_token(token)


def _make_token(path: Path) -> None:
    """A new random token, readable by the service's user only; never printed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(32) + "\n")
    say(f"made the dashboard's sign-in token: it is in {path} (keep it private)")


def _first_start(config_path: Path) -> None:
    """What the config names and nobody has made yet: the rules' folders under ``/data`` and
    the dashboard's token."""
    from viggle_watch.config import load_config
    from viggle_watch.errors import ConfigError

    try:
        config = load_config(config_path)
    except ConfigError:
        return  # `run` says what is wrong, in its own words
    for folder in folders_to_make([p for r in config.rules for p in (r.watch, r.output)]):
        if not folder.exists():
            folder.mkdir(parents=True)
            say(f"made {folder} (a folder a rule names)")
    token = config.web.token_file if config.web is not None else None
    if token is not None and not token.exists() and token.parent.is_dir():
        _make_token(token)


def prepare(start: Start) -> int | None:
    """Everything before the command; an exit code when the container must stop here."""
    for note in start.notes:
        say(note)
    if start.run_as is not None:
        if start.service:  # only the service writes there
            _hand_over_mounts(start.run_as, _user_namespace())
        _become(start.run_as)
    os.umask(start.umask)
    if not start.service:
        return None
    config = config_path(start.argv, os.environ)
    if not config.exists():
        _write_starter(config)
        return EXIT_CONFIG
    if _unedited(config):  # restarted by a restart policy before anyone edited it
        say(f"{config} is still the starter config: edit it (docs/container.md), then the")
        say("service starts with it.")
        hold(EXIT_CONFIG, config, forever=True)
        return EXIT_CONFIG
    _first_start(config)
    return None


def _failed(argv: Sequence[str], exc: Exception) -> int:
    """Say what stopped the start; a service start then waits as `run` does on a broken
    config (``VIGGLE_WATCH_ON_ERROR``), so a restart policy does not loop."""
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        say(f"error: {exc.strerror or exc}{where}")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            say(
                f"running as uid {os.geteuid()}, gid {os.getegid()}: give the folder to them, "
                "or set PUID and PGID to its owner (docs/container.md)"
            )
    else:
        say(f"error: {exc}")
    if command_of(list(argv) or ["run"]) == "run":
        hold(EXIT_CONFIG, config_path(argv, os.environ))
    return EXIT_CONFIG


def main(argv: Sequence[str]) -> int:
    try:
        start = plan_start(
            argv, os.environ, os.geteuid(), _command_names(), userns=_user_namespace()
        )
        stop = prepare(start)
    except (ContainerError, OSError) as exc:
        return _failed(argv, exc)
    if stop is not None:
        return stop
    if start.program == "exec":
        try:
            os.execvp(start.argv[0], start.argv)  # noqa: S606 - the program the user named
        except OSError as exc:
            say(f"cannot run {start.argv[0]!r}: {exc.strerror or exc}")
            return 127
    from viggle_watch.cli.main import main as cli

    return cli(start.argv)
