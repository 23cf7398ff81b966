"""`viggle-watch`: parse the arguments, set up logging, run the command. Exit codes: 0 ok, 1
the work failed, 2 a permanent error (usage, config), 75 a passing one (try again later)."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from viggle_watch.cli.parser import build_parser
from viggle_watch.errors import ViggleWatchError

EXIT_FAILED, EXIT_USAGE = 1, 2
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: not ready yet (a share, the store, another service); later
# a full disk or quota, an I/O error, a share gone: worth trying again later (systemd does)
PASSING = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.ENOTCONN, errno.ESTALE}
)
QUIET = frozenset({"status"})  # reads and prints, logs nothing: no logging library to load


def main(argv: Sequence[str] | None = None) -> int:
    # viggle-watch uses no pydantic plugin; looking for them reads every installed package's
    # metadata (~0.1 s of each command's start). A person who wants one can set the variable.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for `run` to re-exec itself
    if args.command not in QUIET:
        from viggle_watch.logs import configure_logging

        # the service logs what it does; a command a person runs prints its answer, and only
        # warnings reach the log (a `jobs cancel` answers, it does not narrate)
        service = args.command in ("run", "sim")
        configure_logging(args.log_format, level=logging.INFO if service else logging.WARNING)
    code = _dispatch(args)
    if args.command == "run" and code in (EXIT_USAGE, EXIT_TEMPFAIL):
        from viggle_watch.cli.hold import hold  # under a restart policy: docs/container.md

        config = args.config or os.environ.get("VIGGLE_WATCH_CONFIG")
        hold(code, Path(config) if config else None)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    from viggle_watch.cli.commands import COMMANDS  # after parsing: --version needs none of it

    try:
        return COMMANDS[args.command](args)
    except ViggleWatchError as exc:
        print(f"viggle-watch: error: {exc}", file=sys.stderr)
        return EXIT_TEMPFAIL if exc.transient else EXIT_USAGE
    except OSError as exc:  # the machine's trouble (a full disk, a lost mount): a sentence
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"viggle-watch: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_TEMPFAIL if exc.errno in PASSING else EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
