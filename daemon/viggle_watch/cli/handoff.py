"""`run` keeps the API key out of its own environment (issue 14 §20). A hook, or anyone who may
read ``/proc/<service pid>/environ``, could read ``VIGGLE_API_KEY`` there — and removing it from
``os.environ`` does not change what that file shows. So when the key comes from the variable,
``run`` reads it, and re-executes itself once without the variable, handing the key over through
an inherited pipe (``config.load`` reads it back and closes it). Same pid, so systemd sees one
service. Key files and systemd credentials stay the recommended way."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from viggle_watch.config.load import KEY_FD_VAR


def key_in_environment() -> bool:
    return bool(os.environ.get("VIGGLE_API_KEY", "").strip()) and KEY_FD_VAR not in os.environ


def reexec_without_key(argv: list[str]) -> NoReturn:
    """Exec this command again (``argv``: its arguments) without ``VIGGLE_API_KEY``; the key
    goes through a pipe whose read end the new image inherits."""
    key = os.environ["VIGGLE_API_KEY"].encode("utf-8")
    read, write = os.pipe()
    os.write(write, key)  # a key is far smaller than a pipe's buffer: never blocks
    os.close(write)
    os.set_inheritable(read, True)
    env = {k: v for k, v in os.environ.items() if k != "VIGGLE_API_KEY"}
    env[KEY_FD_VAR] = str(read)
    os.execve(sys.executable, command_of(sys.argv[0], argv), env)  # noqa: S606 - no shell


def command_of(started_as: str, argv: list[str]) -> list[str]:
    """The re-executed command line. Started as the `viggle-watch` script, it runs that script
    again, so `ps` and `pgrep -f "viggle-watch run"` still find the service (with ``-m`` they
    saw only `python3 -m viggle_watch run`); otherwise the module."""
    script = Path(started_as)
    if script.name == "viggle-watch" and script.is_file():
        return [sys.executable, str(script), *argv]
    return [sys.executable, "-m", "viggle_watch", *argv]
