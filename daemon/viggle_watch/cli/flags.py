"""`viggle-watch pause|resume`: hold every new paid step, on every host and across restarts,
or let them go again. Polls and downloads of work already paid for go on while paused."""

from __future__ import annotations

import argparse
import time

from viggle_watch.app.storage import open_backend
from viggle_watch.config import Config
from viggle_watch.errors import ViggleWatchError
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
            return _recheck_key(config, flags)
        return 0
    finally:
        db.close()


def _recheck_key(config: Config, flags: FlagStore) -> int:
    """The key was refused: ask Viggle now (a free call, through the service's own
    ``Gatekeeper.check_key``, which lowers the hold when the key passes) rather than leave the
    person waiting for the service's next check."""
    from viggle_watch.app.clients import make_client
    from viggle_watch.app.gatekeeper import Gatekeeper
    from viggle_watch.config import resolve_api_key

    try:
        client = make_client(config, resolve_api_key(config))
    except ViggleWatchError as exc:  # no key here: say what still holds
        print(f"still held: the key is unchecked ({exc}); the service checks it every 5 min")
        return 0
    verdict = Gatekeeper(flags, client).check_key(time.time())
    if verdict == "accepted":
        print("the API key is accepted by Viggle now: submissions go on")
        return 0
    if verdict == "refused":
        reason = next(r.reason for r in flags.raised() if r.flag == Flag.KEY_REFUSED)
        said = f"Viggle still refuses the API key ({reason})"
    else:
        said = "the key could not be checked now"
    print(f"still held: {said}; the service checks it every 5 min")
    return 1 if verdict == "refused" else 0
