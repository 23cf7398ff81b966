"""What each `viggle-watch` command does (the parser is ``cli.parser``; ``cli.main`` imports
this module only once the arguments are parsed, so `--version` and `--help` stay quick)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from viggle_watch.config import Config, load_config
from viggle_watch.errors import ViggleWatchError

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK = 0


def _console() -> Console:
    """A rich console, imported by the commands that print."""
    from rich.console import Console

    return Console(soft_wrap=True)  # piped output: one line per line, for grep


def _config(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get("VIGGLE_WATCH_CONFIG")
    if not path:
        raise ViggleWatchError("no config: pass --config PATH or set VIGGLE_WATCH_CONFIG")
    return load_config(Path(path))


def _run(args: argparse.Namespace) -> int:
    from viggle_watch.app.assembly import build_service  # the service's imports: `run` only
    from viggle_watch.app.lock import ServiceLock
    from viggle_watch.app.storage import host_name
    from viggle_watch.cli.handoff import key_in_environment, reexec_without_key
    from viggle_watch.config import resolve_api_key

    if key_in_environment():  # the key never stays readable in /proc/<pid>/environ
        reexec_without_key(args.argv)
    config = _config(args)
    lock = ServiceLock(config.state_dir)  # first: a second service must touch nothing
    lock.acquire(host=host_name(config), now=time.time())
    try:
        service = build_service(config, resolve_api_key(config))
        service.run_until_signalled()
    finally:
        lock.release()
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from viggle_watch.app.report import gather as _gather

    config = _config(args)
    if args.json:
        print(json.dumps(_gather(config), indent=2))
        return EXIT_OK
    from viggle_watch.cli.status import print_status, status_view  # rich: for people only

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
    from viggle_watch.cli.config import print_check

    if args.path is not None:
        args.config = args.path
    return print_check(_config(args), _console())


def _sim(args: argparse.Namespace) -> int:
    from viggle_watch.emulator.cli import config_from_args

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
    from viggle_watch.cli.jobs import run_jobs

    return run_jobs(args, _config(args))


def _plan(args: argparse.Namespace) -> int:
    from viggle_watch.cli.config import run_plan

    return run_plan(_config(args), args.json, _console())


def _reload(args: argparse.Namespace) -> int:
    from viggle_watch.cli.config import send_reload

    return send_reload(_config(args))


def _flags(args: argparse.Namespace) -> int:
    from viggle_watch.cli.flags import run_flags

    return run_flags(args, _config(args))


def _notify(args: argparse.Namespace) -> int:
    from viggle_watch.cli.notify import run_notify_test

    return run_notify_test(_config(args), event=args.event, console=_console())


def _store(args: argparse.Namespace) -> int:
    from viggle_watch.cli.store import reset_store

    return reset_store(_config(args), yes=args.yes, render_existing=args.render_existing)


def _doctor(args: argparse.Namespace) -> int:
    if args.render:
        from viggle_watch.cli.trial import run_trial

        return run_trial(_config(args), args)
    from viggle_watch.cli.doctor import run_doctor

    return run_doctor(_config(args), as_json=args.json, report_file=args.report)


COMMANDS = {
    "plan": _plan,
    "reload": _reload,
    "jobs": _jobs,
    "pause": _flags,
    "resume": _flags,
    "run": _run,
    "status": _status,
    "check-config": _check,
    "demo": _demo,
    "sim": _sim,
    "store": _store,
    "notify": _notify,
    "doctor": _doctor,
}
