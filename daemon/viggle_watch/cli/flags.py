"""`viggle-watch pause|resume`: hold every new paid step, on every host and across restarts,
or let them go again. Polls and downloads of work already paid for go on while paused."""

from __future__ import annotations

import argparse
import time

from viggle_watch.app.storage import open_backend
from viggle_watch.config import Config
from viggle_watch.store.flags import Flag, FlagStore

PAUSED_MEANS = "nothing new is submitted or preprocessed; polls and downloads go on"


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
