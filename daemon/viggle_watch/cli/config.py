"""`check-config`, `plan` and `reload`: what a config means, what it would do, and applying it."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from viggle_watch.app.clients import make_client
from viggle_watch.app.gatekeeper import ask_about_key
from viggle_watch.app.lock import holder_of
from viggle_watch.app.settings import check_paths
from viggle_watch.app.storage import host_name, open_backend, state_db_path, store_exists
from viggle_watch.cli.plan import Planned, Planner
from viggle_watch.clock import differs, local_offset
from viggle_watch.config import Config, resolve_api_key
from viggle_watch.config.deprecated import deprecated
from viggle_watch.config.kinds import missing_assets
from viggle_watch.errors import ConfigError, NoSchemaError, ViggleWatchError
from viggle_watch.redaction import redact_text, webhook_shown
from viggle_watch.store.assets import AssetStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.remembered import Remembered
from viggle_watch.watch.mounts import watch_roots


def print_check(config: Config, console: Console) -> int:
    """The resolved rules and the observer each watch folder will use; raises what `run` would
    refuse (missing folders, unreadable scene videos). Returns the exit code: 2 without an API
    key (`run` would refuse to start), 1 when Viggle refuses the key, else 0."""
    check_paths(config)
    console.print(f"{config.source}: OK, {len(config.rules)} rule(s)")
    for rule in config.rules:
        details = rule.model_dump(mode="json", exclude={"name", "kind", "watch", "output"})
        details["output_mode"] = f"{rule.output_mode:04o}"  # as it is written in the file
        console.print(f"  [bold]{rule.name}[/bold] ({rule.kind}): {rule.watch} → {rule.output}")
        for line in rule_lines(details):
            console.print(f"    {escape(redact_text(line))}", highlight=False)
    for root in watch_roots(config):
        console.print(f"  watch {root.path}: {root.kind} — {root.reason}")
    console.print(f"  {store_line(config)}")
    if config.store.url:
        console.print(f"    {store_reachable(config)}")
    for words in deprecated(config).values():  # still works: `run` says it at start too
        console.print(f"  [yellow]warning[/yellow]: {escape(words)}")
    if not _print_notify(config, console) or not _print_web(config, console):
        return 2
    try:
        key = resolve_api_key(config)
    except ConfigError as exc:
        console.print(f"  [red]error[/red]: {exc} (`run` needs it)")
        return 2
    verdict, reason = ask_about_key(make_client(config, key))
    console.print(f"  API key: {_KEY_WORDS[verdict]}{f' ({reason})' if reason else ''}")
    if verdict == "refused" and not key.reveal().startswith("sk-"):
        console.print("    Viggle's API keys start with sk-: this one does not (a wrong value?)")
    return 1 if verdict == "refused" else 0


def rule_lines(details: dict[str, Any]) -> list[str]:
    """A rule's resolved settings as a person reads them: one ``key: value`` line each, in
    the YAML the config is written in, then the settings left unset (their defaults apply). A
    hook's webhook URL shows only where it goes (its path may be its token)."""

    def shown(value: Any) -> Any:  # nothing that says "not set" inside a value
        if isinstance(value, dict):
            return {
                k: webhook_shown(v) if k == "url" and isinstance(v, str) else shown(v)
                for k, v in value.items()
                if v is not None and v != {}
            }
        return [shown(v) for v in value] if isinstance(value, list) else value

    unset = sorted(key for key, value in details.items() if value is None)
    given = {key: shown(value) for key, value in details.items() if value is not None}
    text = yaml.safe_dump(given, sort_keys=True, default_flow_style=None, width=10_000)
    lines = text.splitlines()
    if unset:
        lines.append(f"unset (the default applies): {', '.join(unset)}")
    return lines


def _print_notify(config: Config, console: Console) -> bool:
    """The notify targets and service webhooks (never their URLs' tokens); False when `run`
    would refuse them (Apprise missing, a target it does not know)."""
    if config.notify:
        from viggle_watch.notify.apprise_send import MISSING, apprise_installed

        if not apprise_installed():
            console.print(f"  [red]error[/red]: {MISSING}")
            return False
        from viggle_watch.notify.outbox import build_outbox

        try:
            lanes = build_outbox(config.notify, time.time).lanes
        except (ConfigError, OSError) as exc:
            console.print(f"  [red]error[/red]: notify: {exc}")
            return False
        for lane in lanes:
            console.print(f"  {lane.label}: events {', '.join(lane.events)}")
    for i, hook in enumerate(config.webhooks):
        shown = webhook_shown(hook.url)
        console.print(f"  webhooks[{i}] {shown}: events {', '.join(hook.events)}")
    return True


def _print_web(config: Config, console: Console) -> bool:
    """The dashboard's address, whether its parts are installed and its token readable; False
    when `run` would refuse to start it."""
    if config.web is None:
        return True
    from viggle_watch.web.token import missing_parts, read_token, token_warnings

    host, port = config.web.address
    shown = f"[{host}]" if ":" in host else host
    console.print(f"  web: the dashboard and API at http://{shown}:{port}/")
    missing = missing_parts()
    if missing is not None:
        console.print(f"  [red]error[/red]: {escape(missing)}")
        return False
    try:
        token = read_token(config.web)
    except ConfigError as exc:
        console.print(f"  [red]error[/red]: {escape(str(exc))}")
        return False
    if token is None:
        console.print("    no web.token_file: read-only (nothing can be changed over HTTP)")
    else:
        console.print(f"    token: read from {config.web.token_file}")
    for words in token_warnings(config.web, token):
        console.print(f"  [yellow]warning[/yellow]: {escape(words)}")
    return True


EXIT_TEMPFAIL: Final = 75  # as `viggle-watch --help` says: a passing error (a share not mounted)
_KEY_WORDS: Final = {
    "accepted": "found, and accepted by Viggle",
    "refused": "[bold red]refused by Viggle[/bold red] — `run` would hold every submission",
    "not checked": "found, not checked",
}


def store_line(config: Config) -> str:
    """Where the queue lives, in words (the password of a URL never shown)."""
    if config.store.url:
        return (
            f"store: PostgreSQL {redact_text(config.store.url)}, shared by several hosts; this is "
            f"host {host_name(config)} (lease {config.store.lease:g} s)"
        )
    return f"store: SQLite {state_db_path(config)} (one host)"


def store_reachable(config: Config) -> str:
    """Connect once (read only): a store `run` could not reach is an error now, not later."""
    try:
        db = open_backend(config, readonly=True)
    except NoSchemaError:
        return "reachable; its tables are made by the first `viggle-watch run`"
    try:
        words = differs(local_offset(db.db_time))
    finally:
        db.close()
    clock = "this host's clock agrees with the database's" if words is None else f"WARNING: {words}"
    return f"reachable; viggle-watch tables present; {clock}"


def run_plan(config: Config, as_json: bool, console: Console) -> int:
    missing = [r for r in config.rules if not r.watch.is_dir()]
    for rule in missing:  # said first: an empty plan must not look like an empty folder
        print(
            f"viggle-watch: warning: rule {rule.name}: watch folder {rule.watch} does not exist "
            "(create it, or mount the share); nothing from it is planned",
            file=sys.stderr,
        )
    absent = [(r, p) for r in config.rules if r.watch.is_dir() for p in missing_assets(r)]
    for rule, path in absent:
        print(
            f"viggle-watch: warning: rule {rule.name}: {path} does not exist (its own file: a "
            "typo, or a share not mounted?); its inputs wait for it and are not planned",
            file=sys.stderr,
        )
    db = open_backend(config, readonly=True) if store_exists(config) else None
    remembered = Remembered.open(config.state_dir)
    try:
        store = JobStore(db) if db else None
        planner = Planner(config, store, AssetStore(db) if db else None, remembered)
        now = time.time()
        lines, spent = planner.plan(now), planner.spent_today(now)
    finally:
        remembered.close()
        if db is not None:
            db.close()
    code = EXIT_TEMPFAIL if missing or absent else 0  # a folder or a rule's file to wait for
    if as_json:
        print(json.dumps([asdict(line) for line in lines], indent=2))
        return code
    table = Table(title="plan (nothing is changed, nothing is spent)")
    for column in ("rule", "input", "action", "output", "collision", "credits", "why"):
        table.add_column(column, overflow="fold")  # a name wraps, never cut to "…"
    for line in lines:
        table.add_row(
            line.rule,
            Path(line.source).name,
            line.action,
            _outputs(line),
            line.collision,
            f"{line.credits:g}" if line.action == "render" else "",
            line.reason,
        )
    console.print(table)
    total = sum(line.credits for line in lines if line.action == "render")
    renders = sum(1 for line in lines if line.action == "render")
    console.print(f"{renders} render(s), about {total:g} credits")
    cap = config.budget.daily_credits
    if cap is not None:
        waiting = sum(1 for line in lines if line.waits_for_budget)
        console.print(
            f"today: {spent:g} of the {cap:g} daily credits used, {max(0.0, cap - spent):g} left"
            + (f"; {waiting} render(s) would wait for tomorrow's budget" if waiting else "")
        )
    return code


def _outputs(line: Planned) -> str:
    """``alice__dance.mp4 + .jpg + .thumb.jpg``: the video and what `deliver:` adds beside it
    (the frames' folder as ``alice__dance/``)."""
    stem = Path(line.output).stem
    return " ".join([line.output, *(f"+ {n.removeprefix(stem) or n + '/'}" for n in line.also)])


def send_reload(config: Config) -> int:
    """SIGHUP to the service running on this config's state directory (its lock names it),
    once the config passes the check the service makes before it takes one (a folder that is
    not there is refused there, and only its log would say so)."""
    check_paths(config)
    holder = holder_of(config.state_dir)
    if holder is None or not holder.pid:  # nothing is broken: there is nothing to reload
        print(
            f"viggle-watch: no viggle-watch is running on {config.state_dir} (the state_dir "
            f"of {config.source}); under systemd use `systemctl reload viggle-watch`",
            file=sys.stderr,
        )
        return 1
    pid = holder.pid
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        raise ViggleWatchError(f"cannot signal the service (pid {pid}): {exc.strerror}") from None
    print(f"asked the service (pid {pid}) to reload {config.source}")
    return 0
