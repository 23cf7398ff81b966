"""`viggle-watch` commands. Exit codes: 0 ok, 1 the work failed, 2 bad usage or config."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viggle_watch import __version__
from viggle_watch.app.lock import ServiceLock, holder_of
from viggle_watch.app.service import build_service
from viggle_watch.app.storage import host_name, open_backend
from viggle_watch.cli.config import (
    add_config_commands,
    print_check,
    roots_report,
    run_plan,
    send_reload,
    waiting_partners,
)
from viggle_watch.cli.flags import add_flag_commands, run_flags
from viggle_watch.cli.jobs import add_jobs_parser, run_jobs
from viggle_watch.cli.status import gather_status, print_status, service_state, status_view
from viggle_watch.clock import day_of, iso
from viggle_watch.config import Config, load_config, resolve_api_key
from viggle_watch.emulator.cli import add_sim_arguments, config_from_args
from viggle_watch.errors import ViggleWatchError
from viggle_watch.intake.facts import missing_assets
from viggle_watch.logs import LogFormat, configure_logging
from viggle_watch.store.flags import FlagStore
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import JobStore

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: not ready yet (a share, the store, another service); later


def _console() -> Console:
    """A rich console, imported by the commands that print (cli.py itself imports no rich)."""
    from rich.console import Console

    return Console(soft_wrap=True)  # piped output: one line per line, for grep


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $VIGGLE_WATCH_CONFIG)",
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="viggle-watch",
        description="Watch folders and turn dropped files into Viggle renders. Commands that "
        "need a config take --config PATH or read $VIGGLE_WATCH_CONFIG.",
        epilog="Exit codes: 0 ok; 1 the work failed; 2 a permanent error (bad usage, a broken "
        "config: fix it first); 75 a passing one (a share not mounted yet, the store busy or "
        "unreachable, another service on the state directory: try again later).",
    )
    p.add_argument("--version", action="version", version=f"viggle-watch {__version__}")
    p.add_argument(
        "--log-format",
        choices=["auto", "console", "json"],
        default="auto",
        help="auto: readable on a terminal, JSON lines otherwise",
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the service in the foreground (Ctrl-C stops cleanly)")
    _add_config(run)
    status = sub.add_parser("status", help="job counts per state and the latest jobs")
    _add_config(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--watch", action="store_true", help="refresh live until Ctrl-C")
    status.add_argument("--interval", type=float, default=2.0, help="seconds, with --watch")
    check = sub.add_parser(
        "check-config", help="validate the config and rule files; show the rules and observers"
    )
    _add_config(check)
    check.add_argument("path", nargs="?", type=Path, help="the config file (or use --config)")
    add_config_commands(sub)
    demo = sub.add_parser("demo", help="a self-contained offline run against the emulator")
    demo.add_argument(
        "--workspace",
        type=Path,
        default=Path("viggle-demo"),
        help="folder for the demo's files (default ./viggle-demo)",
    )
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    add_jobs_parser(sub, _add_config)
    add_flag_commands(sub, _add_config)
    sim = sub.add_parser(
        "sim",
        help="run the local Viggle emulator in the foreground",
        description="A Viggle-compatible API on 127.0.0.1 for offline tests. GET /_sim/stats "
        "shows what it received and charged; POST /_sim/faults (a JSON object of Faults "
        "fields) changes faults while it runs; POST /_sim/reset clears it.",
    )
    sim.add_argument("--host", default="127.0.0.1", help="loopback only (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=0, help="default 0: a free port")
    sim.add_argument(
        "--latency", type=float, default=3.0, help="seconds from submit to done (default 3)"
    )
    sim.add_argument(
        "--key",
        action="append",
        default=None,
        help="accept only this API key (repeatable); default: any sk-… key",
    )
    add_sim_arguments(sim)
    return p


def _config(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get("VIGGLE_WATCH_CONFIG")
    if not path:
        raise ViggleWatchError("no config: pass --config PATH or set VIGGLE_WATCH_CONFIG")
    return load_config(Path(path))


def _run(args: argparse.Namespace) -> int:
    config = _config(args)
    lock = ServiceLock(config.state_dir)  # first: a second service must touch nothing
    lock.acquire(host=host_name(config), now=time.time())
    try:
        service = build_service(config, resolve_api_key(config))
        service.run_until_signalled()
    finally:
        lock.release()
    return EXIT_OK


def _gather(config: Config) -> dict[str, Any]:
    db = open_backend(config, readonly=True)
    try:
        now = time.time()
        return gather_status(
            JobStore(db),
            today=day_of(now),
            daily_cap=config.budget.daily_credits,
            now=now,
            roots=roots_report(config),
            waiting=waiting_partners(config),
            store_info={"backend": db.describe(), "host": db.host, "shared": db.shared},
            hosts=HostStore(db).hosts() if db.shared else None,
            lease_s=config.store.lease,
        ) | {
            "service": service_state(holder_of(config.state_dir)),
            "held": [
                {"flag": str(r.flag), "reason": r.reason, "host": r.host, "since": iso(r.at)}
                for r in FlagStore(db).raised()
            ],
            "missing_assets": [
                {"rule": r.name, "path": str(path)}
                for r in config.rules
                for path in missing_assets(r)
            ],
        }
    finally:
        db.close()


def _status(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.json:
        print(json.dumps(_gather(config), indent=2))
        return EXIT_OK
    console = _console()
    if not args.watch:
        print_status(_gather(config), console)
        return EXIT_OK
    from rich.live import Live

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with Live(status_view(_gather(config)), console=console, auto_refresh=False) as live:
        while not stop.wait(args.interval):
            live.update(status_view(_gather(config)), refresh=True)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    if args.path is not None:
        args.config = args.path
    print_check(_config(args), _console())
    return EXIT_OK


def _sim(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with `&` (SIGINT ignored)
        signal.signal(sig, lambda *_: stop.set())
    from viggle_watch.emulator.server import serve  # only `sim` and `demo` need the emulator

    try:
        running = serve(config_from_args(args), args.host, args.port)
    except OSError as exc:
        raise ViggleWatchError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror}"
        ) from None
    with running as emu:
        print(f"viggle emulator listening on {emu.url}", flush=True)
        stop.wait()
    print("viggle emulator stopped", flush=True)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from viggle_watch.cli.demo import run_demo  # keeps the emulator out of the service's memory

    try:
        return run_demo(args.workspace, args.timeout, _console())
    except OSError as exc:
        raise ViggleWatchError(f"demo workspace {args.workspace}: {exc.strerror}") from None


def _jobs(args: argparse.Namespace) -> int:
    return run_jobs(args, _config(args))


COMMANDS = {
    "plan": lambda args: run_plan(_config(args), args.json, _console()),
    "reload": lambda args: send_reload(_config(args)),
    "jobs": _jobs,
    "pause": lambda args: run_flags(args, _config(args)),
    "resume": lambda args: run_flags(args, _config(args)),
    "run": _run,
    "status": _status,
    "check-config": _check,
    "demo": _demo,
    "sim": _sim,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    fmt: LogFormat = args.log_format
    # the demo talks to a person: only warnings from the service, its own lines on stdout
    configure_logging(fmt, level=logging.WARNING if args.command == "demo" else logging.INFO)
    try:
        return COMMANDS[args.command](args)
    except ViggleWatchError as exc:
        print(f"viggle-watch: error: {exc}", file=sys.stderr)
        return EXIT_TEMPFAIL if exc.transient else EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
