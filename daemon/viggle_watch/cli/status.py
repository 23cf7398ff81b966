"""What `viggle-watch status` and `jobs show` look like to a person (``app.report`` gathers
what they show; `--json` prints that as it is, without loading this module's rich)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from viggle_watch.clock import differs
from viggle_watch.render.pending import pending_words
from viggle_watch.serving import is_wildcard_host
from viggle_watch.store.states import State

_STYLE = {
    State.DONE: "green",
    State.FAILED: "red",
    State.UNCERTAIN: "bold red",
    State.REVIEW: "bold magenta",
    State.RENDERING: "cyan",
    State.DOWNLOADING: "cyan",
    State.SUBMITTING: "yellow",
    State.WAITING_BUDGET: "yellow",
}


def status_view(status: dict[str, Any]) -> Group:
    """Everything `status` shows, as rich renderables (printed once, or refreshed live)."""
    parts: list[RenderableType] = []
    counts = status["counts"]
    line = ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no jobs yet"
    parts.append(Text.from_markup(f"[bold]viggle-watch[/bold]: {line}"))
    service = status.get("service")
    if service is not None:
        parts.append(Text.from_markup(_service_line(service)))
    if status.get("web"):
        web = status["web"]
        every = is_wildcard_host(urlsplit(web["url"]).hostname or "")
        where = " (every address: open it by this machine's name or IP)" if every else ""
        read_only = " (read-only)" if web["read_only"] else ""
        parts.append(Text(f"dashboard: {web['url']}{where}{read_only}"))
    parts.extend(Text.from_markup(_held_line(h)) for h in status.get("held", []))
    parts.extend(_pending_lines(status))
    credits = status["credits"]
    if credits["today"] is not None:
        cap = credits["daily_cap"]
        of_cap = f" of the {cap:g} daily cap" if cap is not None else " (no daily cap)"
        parts.append(Text(f"credits committed today: {credits['today']:g}{of_cap}"))
    parts.extend(_needs_a_person(status))
    parts.extend(_notify_lines(status))
    info = status.get("store") or {}
    if info.get("exists") is False:
        parts.append(
            Text(f"no job store yet ({info['backend']}): the first `viggle-watch run` makes it")
        )
    if info.get("shared"):
        parts.append(Text(f"store: {info['backend']}; this is host {info['host']}"))
        words = differs(float(info.get("clock_offset_s") or 0.0))
        if words is not None:
            parts.append(Text.from_markup(f"[yellow]warning[/yellow]: {escape(words)}"))
    hosts = status.get("hosts", [])
    parts.extend(_host_lines(hosts))
    parts.extend(_watch_line(root) for root in status["watch"])
    for asset in status.get("missing_assets", []):
        parts.append(
            Text.from_markup(
                f"rule {escape(asset['rule'])}: [red]{escape(asset['path'])} is missing[/red]; "
                "its inputs wait and are taken once it is back"
            )
        )
    for rule, files in status["waiting_partners"].items():
        parts.append(Text(f"rule {rule}: waiting for a partner: {', '.join(files)}"))
    if status["jobs"]:
        parts.append(_jobs_table(status["jobs"], hosts=bool(info.get("shared"))))
    return Group(*parts)


SHOWN = 5
"""Jobs that wait for a person, shown one by one; the rest are counted, with where to list them
(a hundred paragraphs of the same advice would bury the rest of the status)."""


def _needs_a_person(status: dict[str, Any]) -> list[Text]:
    """The jobs that wait for a person (uncertain, review), each with what to do."""
    parts: list[Text] = []
    for job in status["uncertain"][:SHOWN]:
        parts.append(
            Text.from_markup(
                f"[bold red]job {job['id']} is uncertain[/bold red]: Viggle may or may not have "
                f"accepted (and charged) it. Check the Viggle dashboard for "
                f"{escape(job['input'])}, then `viggle-watch jobs resolve {job['id']} --viggle-job "
                f"ID` or `jobs retry {job['id']} --force`."
            )
        )
    parts.extend(_more(status, State.UNCERTAIN, len(status["uncertain"])))
    for job in status.get("review", [])[:SHOWN]:
        why = (job["error"] or "failed the acceptance gate").removeprefix("needs a look: ")
        parts.append(
            Text.from_markup(
                f"[bold magenta]job {job['id']} needs a look[/bold magenta] ({escape(why)}): "
                f"the render is in {escape(_folder_of(job))}. `viggle-watch jobs accept "
                f"{job['id']}` publishes it, `viggle-watch jobs retry {job['id']}` renders "
                "again (paid)."
            )
        )
    parts.extend(_more(status, State.REVIEW, len(status.get("review", []))))
    return parts


def _more(status: dict[str, Any], state: State, listed: int) -> list[Text]:
    """The line after the first SHOWN jobs in ``state``: how many more (from the counts, not
    the list, which ``gather`` caps at 100) and where to see them all."""
    total = max(listed, int(status["counts"].get(str(state)) or 0))
    if total <= SHOWN:
        return []
    return [
        Text(
            f"…and {total - SHOWN} more {state} jobs: "
            f"`viggle-watch jobs list --state {state} --limit {total}` lists them all"
        )
    ]


def _pending_lines(status: dict[str, Any]) -> list[Text]:
    """Answers from Viggle that wait in this host's journal for the store (issue 19)."""
    words = pending_words(status.get("pending_answers") or {})
    return [] if words is None else [Text.from_markup(f"[yellow]waiting[/yellow]: {escape(words)}")]


def _notify_lines(status: dict[str, Any]) -> list[Text]:
    """A notify target or service webhook that failed: how often, and its last error."""
    parts: list[Text] = []
    for target in status.get("notify", []):
        if target.get("failed"):
            parts.append(
                Text.from_markup(
                    f"{escape(target['target'])}: {target['sent']} sent, [red]{target['failed']}"
                    f" failed[/red] (last: {escape(str(target.get('last_error')))})"
                )
            )
    return parts


def _folder_of(job: dict[str, Any]) -> str:
    output = job.get("output") or ""
    return output.rsplit("/", 1)[0] + "/" if "/" in output else "OUTPUT/_review/"


def _host_lines(hosts: list[dict[str, Any]]) -> list[Text]:
    """Each host sharing the store: up, stopped, or silent (and who takes its jobs)."""
    lines = []
    for host in hosts:
        others = any(h["alive"] and h["name"] != host["name"] for h in hosts)
        after = "taken over by the others" if others else "waiting for a host to take them"
        if host.get("stopped"):
            state = f"stopped {host['seen_s_ago']:g} s ago"
        elif host["alive"]:
            state = f"[green]up[/green], seen {host['seen_s_ago']:g} s ago"
        else:
            state = f"[red]silent for {host['seen_s_ago']:g} s[/red]: its jobs are {after}"
        running = host.get("node") and host["pid"]
        on = f" (pid {host['pid']} on {escape(host['node'])})" if running else ""
        lines.append(
            Text.from_markup(
                f"host {escape(host['name'])}: {state}, holds {host['holds']} job(s){on}"
            )
        )
        if host.get("conflict"):  # two processes wanted one name (issue 19 §3)
            lines.append(
                Text.from_markup(
                    f"  [yellow]name conflict at {host['conflict_at']}: "
                    f"{escape(host['conflict'])}[/yellow]"
                )
            )
    return lines


def _watch_line(root: dict[str, Any]) -> Text:
    if not root["ok"] and root["problem"].startswith("missing"):  # no file system to name
        return Text.from_markup(f"watch {escape(root['path'])}: [red]{root['problem']}[/red]")
    health = "[green]ok[/green]" if root["ok"] else f"[red]{root['problem']}[/red]"
    line = f"watch {escape(root['path'])}: {root['observer']} ({escape(root['reason'])}); {health}"
    refused: int = root.get("refused") or 0
    if refused:
        line += f"; [red]{refused} input(s) refused[/red] (in failed/, each with why)"
    ignored: int = root.get("ignored") or 0
    if ignored:
        examples = root.get("ignored_examples") or []
        shown = ", ".join(examples[:3]) + (", …" if ignored > 3 else "")
        line += (
            f"; [yellow]{ignored} file(s) ignored[/yellow]: not an image or video this "
            f"folder's rules use ({escape(shown)})"
        )
    return Text.from_markup(line)


def _held_line(held: dict[str, Any]) -> str:
    what = {
        "paused": "paused",
        "key_refused": "API key refused by Viggle — submissions paused",
    }.get(held["flag"], held["flag"])
    return (
        f"[bold red]{what}[/bold red] since {held['since']} ({escape(held['reason'])}): "
        "nothing new is submitted or preprocessed; polls and downloads go on"
    )


def _service_line(service: dict[str, Any]) -> str:
    if not service["running"]:
        return "service: [yellow]not running[/yellow] on this state directory"
    since = f" since {service['since']}" if service.get("since") else ""
    return f"service: [green]running[/green]{since} (pid {service['pid']})"


def _jobs_table(jobs: list[dict[str, Any]], *, hosts: bool = False) -> Table:
    table = Table(title="latest jobs")
    columns = ["id", "rule", "state", "progress", "input", "output / why"]
    for column in (*columns[:3], *(["host"] if hosts else []), *columns[3:]):
        table.add_column(column, overflow="fold")  # a name wraps, never cut to "…"
    for job in jobs:
        state = State(job["state"])
        pct = job["progress_pct"] if state in (State.RENDERING, State.DOWNLOADING) else None
        progress: RenderableType = ""
        if pct is not None:
            progress = ProgressBar(total=100, completed=pct, width=20)
        table.add_row(
            str(job["id"]),
            job["rule"],
            f"[{_STYLE.get(state, 'white')}]{state}[/]",
            *([escape(job.get("host") or "")] if hosts else []),
            progress,
            escape(job["input"].rsplit("/", 1)[-1]),
            escape(job["why"] or (job["output"] or "").rsplit("/", 1)[-1]),
        )
    return table


def print_status(status: dict[str, Any], console: Console) -> None:
    console.print(status_view(status))


def _options(options: dict[str, Any]) -> str:
    """``background_mode=transparent, fast=no``: the options as sent (unset: the API's)."""
    said = {True: "yes", False: "no", None: "default"}
    return ", ".join(
        f"{k}={said[v] if v is None or isinstance(v, bool) else v}" for k, v in options.items()
    )


def print_job_detail(detail: dict[str, Any], console: Console) -> None:
    state = State(detail["state"])
    console.print(
        f"[bold]job {detail['id']}[/bold] rule {detail['rule']}: "
        f"[{_STYLE.get(state, 'white')}]{state}[/]"
    )
    spec = detail["spec"]
    console.print(f"  character  {spec['character']['path']}  sha256 {spec['character']['sha256']}")
    scene = spec.get("scene")
    console.print(f"  scene      {scene['path'] if scene else detail['scene']}")
    console.print(
        f"  model {spec['model']}, mode {spec['mode']}, options {_options(spec['options'])}, "
        f"estimate {detail['estimate_credits']:g} credits, attempts {detail['attempts']}"
    )
    if detail["charged_how"]:
        charged = detail["charged_credits"]
        amount = "unknown" if charged is None else f"{charged:g} credits"
        console.print(f"  charged    {amount} ({detail['charged_how']})")
    if detail["viggle_job_id"]:
        console.print(f"  viggle job {detail['viggle_job_id']}")
    if detail["output"]:
        console.print(f"  output     {detail['output']}")
    if detail.get("delivered"):  # `deliver:`: beside the video, in its folder
        names = ", ".join(path.rsplit("/", 1)[-1] for path in detail["delivered"])
        console.print(f"  also       {escape(names)}")
    if detail["error"]:
        code = f" ({detail['error_code']})" if detail["error_code"] else ""
        console.print(f"  [red]why: {detail['error']}[/red]{code}")
    table = Table(title="history")
    table.add_column("at (UTC)", no_wrap=True)
    for column in ("from", "to", "detail"):
        table.add_column(column, overflow="fold")
    for event in detail["history"]:
        at = event["at"][:19].replace("T", " ")  # to the second: `--json` has it all
        table.add_row(at, event["from"] or "", event["to"], event["detail"])
    console.print(table)
