"""`viggle-watch pause|resume`: hold every new paid step, on every host and across restarts,
or let them go again. Polls and downloads of work already paid for go on while paused."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from viggle_watch.app.storage import open_backend
from viggle_watch.config import Config
from viggle_watch.store.flags import Flag, FlagStore

PAUSED_MEANS = "nothing new is submitted or preprocessed; polls and downloads go on"


def add_flag_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_config: Callable[[argparse.ArgumentParser], None],
) -> None:
    pause = sub.add_parser(
        "pause", help="hold new submissions and preprocessing on every host (until resume)"
    )
    pause.add_argument("--reason", default="paused by a person", help="shown by status")
    resume = sub.add_parser("resume", help="lift a pause")
    for parser in (pause, resume):
        add_config(parser)


def run_flags(args: argparse.Namespace, config: Config) -> int:
    db = open_backend(config)
    try:
        flags = FlagStore(db)
        if args.command == "pause":
            fresh = flags.raise_flag(Flag.PAUSED, args.reason, now=time.time())
            print(f"{'paused' if fresh else 'already paused'}: {PAUSED_MEANS}")
            return 0
        lowered = flags.lower(Flag.PAUSED)
        print("resumed" if lowered else "was not paused")
        if any(r.flag == Flag.KEY_REFUSED for r in flags.raised()):
            print("still held: Viggle refused the API key; fix it (it is checked every 5 min)")
        return 0
    finally:
        db.close()
