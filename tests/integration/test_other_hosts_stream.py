"""Two services on one PostgreSQL store, the first with `web:`: a job another host moves shows
on the first host's open event stream (`GET /api/v1/events`), as the same event its host
tells, with `data.host`; the first host's own changes come once, as before (issue 18)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from structlog.testing import capture_logs

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import Workspace
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def alpha_and_beta(
    stepper_for: Any, pg_url: str, workspace: Workspace
) -> Iterator[tuple[str, Stepper, Stepper]]:
    """alpha with its listener started, beta without one; two queued jobs, made by alpha."""
    port = free_port()
    alpha: Stepper = stepper_for(
        "http://127.0.0.1:9",
        state_dir="state-alpha",
        store={"url": pg_url, "host": "alpha"},
        web={"listen": f"127.0.0.1:{port}"},
    )
    beta: Stepper = stepper_for(
        "http://127.0.0.1:9", state_dir="state-beta", store={"url": pg_url, "host": "beta"}
    )
    for i in range(2):
        make_character_png(workspace.watch / f"hero{i}.png", seed=i)
    assert alpha.ingest() == 2
    assert alpha.service.web is not None
    alpha.service.web.start()
    try:
        yield f"http://127.0.0.1:{port}", alpha, beta
    finally:
        alpha.service.web.stop()


def next_event(lines: Iterator[str]) -> tuple[str, dict[str, Any]]:
    """The next event on an SSE stream (comments and blank lines skipped): its name and JSON."""
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            return name, json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended")


def test_a_job_another_host_moves_shows_on_this_hosts_stream(
    alpha_and_beta: tuple[str, Stepper, Stepper],
) -> None:
    """alpha fails job 2 itself, then beta fails job 1: alpha's stream shows both, once each;
    beta's is told as beta tells it, named by ``data.host``."""
    base, alpha, beta = alpha_and_beta
    with (
        capture_logs() as logs,
        requests.get(f"{base}/api/v1/events", stream=True, timeout=30) as answer,
    ):
        lines = answer.iter_lines(decode_unicode=True)
        assert next(lines) == ": viggle-watch events"
        wait_for(
            lambda: any(e["event"] == "other_hosts_followed" for e in logs),
            what="alpha reading the other hosts' changes",
        )
        at = alpha.clock.time()
        alpha.service.store.transition(
            2, State.QUEUED, State.FAILED, at=at, error_message="refused here"
        )
        beta.service.store.transition(
            1, State.QUEUED, State.FAILED, at=at + 1, error_message="refused there"
        )
        own = next_event(lines)
        other = next_event(lines)  # nothing between: alpha's own change is not told twice
    assert (own[0], own[1]["job_id"], "host" in own[1]["data"]) == ("failed", 2, False)
    name, data = other
    assert (name, data["event"], data["job_id"], data["at"], data["data"]["host"]) == (
        "failed",
        "failed",
        1,
        at + 1,
        "beta",
    )
    assert data["title"].startswith("Render failed: hero")
    assert data["body"] == "Rule dance, job 1: refused there"
