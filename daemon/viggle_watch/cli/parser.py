"""What every command takes: the whole argument parser, and nothing else. It imports no
command's code, so `viggle-watch --version` and `--help` answer at once (each command imports
what it needs when it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from viggle_watch import __version__
from viggle_watch.emulator.cli import add_sim_arguments
from viggle_watch.store.states import State

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
STATES = [str(s) for s in State]


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: $VIGGLE_WATCH_CONFIG)"
    )


def build_parser() -> argparse.ArgumentParser:
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
    _service_commands(sub)
    _config_commands(sub)
    _jobs_commands(sub)
    _flag_commands(sub)
    _notify_commands(sub)
    _store_commands(sub)
    _doctor_command(sub)
    _sim_command(sub)
    return p


def command_names() -> frozenset[str]:
    """Every command's name (the container's entry point tells them from other programs)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return frozenset(sub.choices)


def _service_commands(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="run the service in the foreground (Ctrl-C stops cleanly)")
    add_config(run)
    status = sub.add_parser("status", help="job counts per state and the latest jobs")
    add_config(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--watch", action="store_true", help="refresh live until Ctrl-C")
    status.add_argument("--interval", type=float, default=2.0, help="seconds, with --watch")
    demo = sub.add_parser("demo", help="a self-contained offline run against the emulator")
    demo.add_argument(
        "--workspace",
        type=Path,
        default=Path("viggle-demo"),
        help="folder for the demo's files (default ./viggle-demo)",
    )
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")


def _config_commands(sub: Subparsers) -> None:
    check = sub.add_parser(
        "check-config", help="validate the config and rule files; show the rules and observers"
    )
    add_config(check)
    check.add_argument("path", nargs="?", type=Path, help="the config file (or use --config)")
    plan = sub.add_parser(
        "plan", help="dry run: the jobs the current folders would make, and the credits"
    )
    add_config(plan)
    plan.add_argument("--json", action="store_true")
    reload = sub.add_parser("reload", help="make the running service re-read its config (SIGHUP)")
    add_config(reload)


def _jobs_commands(sub: Subparsers) -> None:
    jobs = sub.add_parser("jobs", help="list, show, retry, cancel, resolve or accept jobs")
    actions = jobs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the newest jobs")
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--rule")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="a job's inputs, options and full history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    retry = actions.add_parser(
        "retry", help="render a done/failed/cancelled/review job again (paid, on purpose)"
    )
    _selection(retry)
    retry.add_argument(
        "--force",
        action="store_true",
        help="also for an uncertain job: accepts that Viggle may charge twice",
    )
    cancel = actions.add_parser("cancel", help="stop a job (cancels it at Viggle if rendering)")
    _selection(cancel)
    resolve = actions.add_parser(
        "resolve",
        help="an uncertain job Viggle did receive (asks Viggle: needs the API key)",
        description="Follow the Viggle job you found in the dashboard for an uncertain job. "
        "viggle-watch asks Viggle about that job first, so it needs the API key "
        "($VIGGLE_API_KEY or api.key_file), as `run` does.",
    )
    resolve.add_argument("id", type=int)
    resolve.add_argument("--viggle-job", required=True, help="the job id from the dashboard")
    accept = actions.add_parser(
        "accept",
        help="publish a render held for review as done (a person looked: it is fine)",
        description="A render that failed the acceptance gate waits in OUTPUT/_review/. "
        "`accept` publishes it into the output folder as done (the service does it at its "
        "next download tick); nothing is rendered or paid again.",
    )
    _selection(accept)
    for p in (listing, show, retry, cancel, resolve, accept):
        add_config(p)


def _selection(parser: argparse.ArgumentParser) -> None:
    """One job by id, or many by ``--state`` (``cli.bulk``), and the confirmation."""
    parser.add_argument("id", type=int, nargs="?", help="one job (or select with --state)")
    parser.add_argument("--state", choices=STATES, help="every job in it")
    parser.add_argument("--rule", help="with --state: only this rule's jobs")
    parser.add_argument("--older-than", help="with --state: unchanged this long (2h, 30m)")
    parser.add_argument("--yes", action="store_true", help="do not ask (for scripts)")


def _flag_commands(sub: Subparsers) -> None:
    pause = sub.add_parser(
        "pause", help="hold new submissions and preprocessing on every host (until resume)"
    )
    pause.add_argument("--reason", default="paused by a person", help="shown by status")
    resume = sub.add_parser("resume", help="lift a pause")
    for parser in (pause, resume):
        add_config(parser)


def _notify_commands(sub: Subparsers) -> None:
    notify = sub.add_parser("notify", help="the notify targets and service webhooks")
    actions = notify.add_subparsers(dest="action", required=True)
    test = actions.add_parser(
        "test",
        help="send a sample of each configured event to each target, and say what each answered",
        description="Sends, now and once, a sample of every event each `notify` target and "
        "service webhook is configured for (or only --event E), marked as a test, and prints "
        "what each answered. Exit 0 when every one was delivered.",
    )
    test.add_argument("--event", help="only this event (done, failed, rejected, …)")
    add_config(test)


def _store_commands(sub: Subparsers) -> None:
    store = sub.add_parser("store", help="the job store itself")
    actions = store.add_subparsers(dest="action", required=True)
    reset = actions.add_parser(
        "reset",
        help="start a new, empty job store on purpose (the old one is kept beside it)",
        description="For a store that is lost or damaged with no backup. The inputs already in "
        "the watch folders are taken as seen, so nothing is rendered (and paid) again; drop "
        "or touch a file to render it. Refused while the service runs.",
    )
    reset.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    reset.add_argument(
        "--render-existing",
        action="store_true",
        help="do not take the inputs in the watch folders as seen: render them (and pay)",
    )
    add_config(reset)


def _doctor_command(sub: Subparsers) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check the API with free calls only: network, key, balance, answers' shapes",
        description="DNS, connection and TLS to api.base_url; the key; the balance; the free "
        "list endpoints, each answer compared with what the client reads. Nothing is paid. "
        "Exit 0 when everything the client needs is there, 1 otherwise.",
    )
    doctor.add_argument("--json", action="store_true")
    paid = doctor.add_argument_group(
        "one real render (paid: asks first; --yes for scripts)",
        "--render sends IMAGE and VIDEO for one on-demand render, refuses when its estimate is "
        "over --max-credits, and reports the charge, the timings and every answer's shape",
    )
    paid.add_argument("--render", action="store_true", help="perform one real render")
    paid.add_argument("--image", type=Path, help="the character (PNG or JPEG)")
    paid.add_argument("--video", type=Path, help="the driving video (MP4, MOV or AVI)")
    paid.add_argument("--model", default="V4_Preview", choices=["V4_Preview", "V3_Preview"])
    paid.add_argument("--max-credits", type=float, help="refuse a render estimated above this")
    paid.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    doctor.add_argument("--report", type=Path, help="also write the (redacted) report to this file")
    add_config(doctor)


def _sim_command(sub: Subparsers) -> None:
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
