"""Hooks for editing pipelines: a webhook and/or a command when a job ends, on one worker thread.

A hook never changes the job's state and the pipeline never waits for one: ``fire`` queues the
work and returns. Each outcome is written to the job's history (``jobs show``) and logged as
``hook_delivered`` or ``hook_failed``.

Webhook requests carry::

    Content-Type              application/json   (the sidecar JSON, as written)
    X-Viggle-Watch-Event      done | failed
    X-Viggle-Watch-Delivery   <job id>-<event>   (the same on every retry: receivers dedup)
    X-Viggle-Watch-Signature  sha256=<hex HMAC-SHA256 of the body>   (with ``secret_file``)

and, following Standard Webhooks (https://www.standardwebhooks.com/), so that any of its
libraries can check them and refuse a replayed or stale delivery::

    webhook-id         msg_<32 hex>: one per event, the same on every retry of it
    webhook-timestamp  the attempt's time, in whole seconds since the epoch
    webhook-signature  v1,<base64 HMAC-SHA256 of "id.timestamp.body">   (with ``secret_file``;
                       a secret ``whsec_<base64>`` is decoded as the standard says)

The runner takes its HTTP session as a parameter and closes it on ``stop`` (``service.py``
passes a ``requests.Session`` of its own, never the Viggle client's), so it imports no HTTP
library.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import structlog

from viggle_watch import __version__
from viggle_watch.apikey import child_env
from viggle_watch.config.kinds import Hook, Webhook
from viggle_watch.notify.commands import run_command
from viggle_watch.notify.delivery import (
    Delivery,
    HookEvent,
    event_for,
    minimal_document,
    read_secret,
    sign,
)
from viggle_watch.notify.posting import HttpSession, post_signed
from viggle_watch.outputs.sidecar import review_path, sidecar_path
from viggle_watch.redaction import redact_text, webhook_shown
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State

log = structlog.get_logger()

COMMAND_TIMEOUT_S: Final = 120.0
STDERR_TAIL_CHARS: Final = 300


def _plural(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


class HookRunner:
    """Runs hook actions one at a time on a worker thread, retrying webhooks with backoff."""

    def __init__(
        self,
        store: JobStore,
        session: HttpSession,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None] | None = None,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._session, self._clock = store, session, clock
        self._wall = wall  # webhook-timestamp: the receiver's clock is a wall clock
        self._abort = threading.Event()  # set when stop() runs out of time: give up retrying
        self._sleep = sleep or self._wait
        self._command_timeout_s = command_timeout_s
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()

    def _wait(self, seconds: float) -> None:
        """The default sleep: wakes up at once when ``stop`` gives up waiting."""
        self._abort.wait(seconds)

    def start(self) -> None:
        """Start the worker thread (once)."""
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._work, name="viggle-watch-hooks")
            self._thread.daemon = True  # a hung receiver must not keep the process alive
            self._thread.start()

    def stop(self, timeout_s: float) -> bool:
        """Run what is queued for up to ``timeout_s``, then abandon the rest; True if joined."""
        with self._lock:
            self._closed, thread = True, self._thread
        self._queue.put(None)
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            self._abort.set()  # no more retries; what is still queued is noted as not run
            thread.join(timeout_s)
        if thread.is_alive():
            log.error("hook_worker_stuck", waited_s=2 * timeout_s)
            return False
        self._session.close()
        return True

    def ended(self, job: Job, *, on_done: Hook | None, on_failed: Hook | None) -> None:
        """The pipeline's ``on_ended`` callback: fire the rule's hook for how ``job`` ended.

        ``job`` may be the copy from before its last transition, so the store is asked.
        """
        current = self._store.get(job.id) or job
        event = event_for(current.state)
        hook = on_done if event == "done" else on_failed
        if event is None or hook is None:
            return
        output = Path(current.output_path) if current.output_path else None
        sidecar = None
        if output is not None and current.state == State.REVIEW:  # held in _review/, with a
            output = review_path(output)  # sidecar that names the failed checks
            sidecar = sidecar_path(output)
        elif output is not None and event == "done":
            sidecar = sidecar_path(output)
        self.fire(current, event, hook, output=output, sidecar=sidecar, body=None)

    def rejected(
        self, rule: str, hook: Hook | None, *, error_file: Path | None, document: dict[str, Any]
    ) -> None:
        """An input refused before any spending: the rule's ``on_failed`` runs as for a failed
        job, with no job, and its ``NAME.error.json`` as the sidecar (the webhook's body, the
        command's last argument; with ``inputs: leave`` there is no file: the body is it)."""
        if hook is not None:
            self.fire(
                None, "failed", hook, output=None, sidecar=error_file, body=document, rule=rule
            )

    def fire(
        self,
        job: Job | None,
        event: HookEvent,
        hook: Hook,
        *,
        output: Path | None,
        sidecar: Path | None,
        body: dict[str, Any] | None,
        rule: str = "",
    ) -> None:
        """Queue ``hook``'s webhook and/or command for ``job``; returns at once."""
        actions: list[Webhook | tuple[str, ...]] = []
        if hook.webhook is not None:
            actions.append(hook.webhook)
        if hook.command is not None:
            actions.append(tuple(hook.command))
        with self._lock:
            if self._closed:
                log.warning("hook_dropped", rule=rule, hook=f"on_{event}", reason="stopping")
                return
            for action in actions:
                self._queue.put(Delivery(job, event, action, output, sidecar, body, rule))

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                if self._abort.is_set():
                    self._record(item, ok=False, text="not run (service stopping)")
                elif isinstance(item.action, Webhook):
                    self._post(item, item.action)
                else:
                    self._run(item, item.action)
            except Exception:  # the worker must outlive any one hook (and a closed store)
                item.log().exception("hook_crashed")

    def _record(self, item: Delivery, *, ok: bool, text: str, **fields: object) -> None:
        """Log the outcome and note it in the job's history."""
        detail = redact_text(f"hook on_{item.event} {item.kind}: {text}")
        if ok:
            item.log().info("hook_delivered", result=detail, **fields)
        else:
            item.log().error("hook_failed", result=detail, **fields)
        if item.job is not None:  # a refused input has no history but the log
            self._store.note(item.job.id, detail, at=self._clock())

    def _post(self, item: Delivery, hook: Webhook) -> None:
        """POST the document, retrying transient failures up to ``hook.attempts`` times."""
        url = webhook_shown(hook.url)  # a token may be in its path, too
        try:
            body, headers, secret = self._request(item, hook)
        except OSError as exc:
            reason = f"cannot read secret_file {hook.secret_file}: {exc.strerror}"
            self._record(item, ok=False, text=f"not sent: {reason}", url=url)
            return
        posted = post_signed(
            self._session,
            hook,
            body,
            headers,
            msg_id=item.id,
            secret=secret,
            wall=self._wall,
            sleep=self._sleep,
            stopping=self._abort.is_set,
            on_retry=lambda reason, delay_s: item.log().warning(
                "hook_retry_scheduled", url=url, reason=reason, delay_s=delay_s
            ),
        )
        if posted.ok:
            self._record(item, ok=True, text=f"delivered ({_plural(posted.attempts)})", url=url)
            return
        text = f"failed after {_plural(posted.attempts)}: {posted.reason}"
        if self._abort.is_set():
            text += " (gave up: service stopping)"
        self._record(item, ok=False, text=text, url=url)

    def _request(self, item: Delivery, hook: Webhook) -> tuple[bytes, dict[str, str], bytes | None]:
        """The body (the sidecar as written, else ``body``, else a minimal one), the headers
        that stay the same on every attempt, and the secret (``secret_file``'s) if any."""
        data: bytes | None = None
        if item.sidecar is not None:
            try:
                data = item.sidecar.read_bytes()
            except OSError:
                data = None  # moved or removed since: fall back to what the caller gave
        if data is None:
            doc = item.body if item.body is not None else minimal_document(item)
            data = json.dumps(doc, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"viggle-watch/{__version__}",
            "X-Viggle-Watch-Event": item.event,
            "X-Viggle-Watch-Delivery": f"{item.job_id or 'input'}-{item.event}",
        }
        secret = None
        if hook.secret_file is not None:
            secret = read_secret(hook.secret_file)
            headers["X-Viggle-Watch-Signature"] = sign(data, secret)
        return data, headers, secret

    def _run(self, item: Delivery, argv: tuple[str, ...]) -> None:
        """Run the command with the output and sidecar paths as its last two arguments."""
        output, sidecar = str(item.output or ""), str(item.sidecar or "")
        env = child_env()  # never the API key, nor where systemd keeps it
        env |= {
            "VIGGLE_WATCH_EVENT": item.event,
            "VIGGLE_WATCH_JOB_ID": item.job_id,
            "VIGGLE_WATCH_RULE": item.rule_name,
            "VIGGLE_WATCH_OUTPUT": output,
            "VIGGLE_WATCH_SIDECAR": sidecar,
        }
        command = [*argv, output, sidecar]
        try:
            code, stderr = run_command(command, env, self._command_timeout_s)
        except OSError as exc:
            self._record(item, ok=False, text=f"failed: cannot run: {exc}", argv=command)
            return
        if code is None:
            text = f"failed: timed out after {self._command_timeout_s:g}s"
        elif code == 0:
            self._record(item, ok=True, text="succeeded (exit 0)", argv=command)
            return
        else:
            tail = stderr.decode("utf-8", "replace").strip()[-STDERR_TAIL_CHARS:]
            text = f"failed: exit {code}" + (f": {tail}" if tail else "")
        self._record(item, ok=False, text=text, argv=command)
