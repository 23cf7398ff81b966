"""The JSON API (issue 18, first step): a real uvicorn listener in the service, on 127.0.0.1,
asked with `requests`. Reads are open on loopback; changes need the bearer token (read-only
without one); the Host header must name the listener; /healthz and /metrics are served there
too. The real store; the emulator is not needed to read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.web import TOKEN
from viggle_watch.outputs.documents import JobDetail, Status


def test_status_and_jobs_are_read_as_the_cli_prints_them(api: Any) -> None:
    base, _st = api(files=5)
    status = requests.get(f"{base}/api/v1/status", timeout=10)
    assert status.status_code == 200
    Status.model_validate(status.json())
    assert status.json()["counts"]["queued"] == 5
    first = requests.get(f"{base}/api/v1/jobs", params={"limit": 2}, timeout=10).json()
    assert [j["id"] for j in first["jobs"]] == [5, 4] and first["next"] == 4
    second = requests.get(
        f"{base}/api/v1/jobs", params={"limit": 2, "cursor": first["next"]}, timeout=10
    ).json()
    assert [j["id"] for j in second["jobs"]] == [3, 2]
    last = requests.get(f"{base}/api/v1/jobs", params={"cursor": 2}, timeout=10).json()
    assert [j["id"] for j in last["jobs"]] == [1] and last["next"] is None
    found = requests.get(f"{base}/api/v1/jobs", params={"q": "HERO3"}, timeout=10).json()
    assert [Path(j["input"]).name for j in found["jobs"]] == ["hero3.png"]
    none = requests.get(f"{base}/api/v1/jobs", params={"state": "done"}, timeout=10).json()
    assert none == {"jobs": [], "next": None}
    detail = requests.get(f"{base}/api/v1/jobs/3", timeout=10)
    JobDetail.model_validate(detail.json())
    assert requests.get(f"{base}/api/v1/jobs/99", timeout=10).status_code == 404
    bad = requests.get(f"{base}/api/v1/jobs", params={"state": "nope"}, timeout=10)
    assert bad.status_code == 422
    spec = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
    assert {"/api/v1/status", "/api/v1/jobs", "/api/v1/jobs/{job_id}"} <= set(spec["paths"])


def test_health_and_metrics_are_served_on_the_listener(api: Any) -> None:
    base, st = api()
    st.service.metrics.tick(st.clock.time())  # the scheduler's tick: healthy
    health = requests.get(f"{base}/healthz", timeout=10)
    assert (health.status_code, health.text) == (200, "ok")
    metrics = requests.get(f"{base}/metrics", timeout=10)
    assert "viggle_watch_jobs" in metrics.text


def test_without_a_token_nothing_can_be_changed(api: Any) -> None:
    base, _st = api()
    refused = requests.post(f"{base}/api/v1/pause", timeout=10)
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert requests.get(f"{base}/api/v1/status", timeout=10).json()["held"] == []


def test_changes_need_the_bearer_token(api: Any) -> None:
    base, _st = api(token=True)
    assert requests.post(f"{base}/api/v1/pause", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-it"}
    assert requests.post(f"{base}/api/v1/pause", headers=wrong, timeout=10).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    paused = requests.post(
        f"{base}/api/v1/pause", params={"reason": "editing"}, headers=right, timeout=10
    )
    assert paused.json() == {"paused": True, "changed": True}
    held = requests.get(f"{base}/api/v1/status", timeout=10).json()["held"]
    assert [(h["flag"], h["reason"]) for h in held] == [("paused", "editing")]
    resumed = requests.post(f"{base}/api/v1/resume", headers=right, timeout=10)
    assert resumed.json() == {"paused": False, "changed": True}


def test_a_request_naming_another_host_is_refused(api: Any) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused, reads too."""
    base, _st = api()
    refused = requests.get(f"{base}/api/v1/status", headers={"Host": "evil.example:80"}, timeout=10)
    assert refused.status_code == 421
    port = base.rsplit(":", 1)[1]
    ok = requests.get(f"{base}/api/v1/status", headers={"Host": f"localhost:{port}"}, timeout=10)
    assert ok.status_code == 200


def test_a_person_acts_on_jobs_with_the_token(api: Any) -> None:
    """retry, cancel and accept as `viggle-watch jobs …` does them; a job not in a state that
    allows it is refused with the reason (409), an unknown one 404; without the token, 401."""
    base, st = api(token=True, files=2)
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.post(f"{base}/api/v1/jobs/1/cancel", timeout=10).status_code == 401
    cancelled = requests.post(f"{base}/api/v1/jobs/1/cancel", headers=right, timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    JobDetail.model_validate(cancelled.json())
    assert cancelled.json()["state"] == "cancelled"
    again = requests.post(f"{base}/api/v1/jobs/1/cancel", headers=right, timeout=10)
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    retried = requests.post(f"{base}/api/v1/jobs/1/retry", headers=right, timeout=10)
    assert retried.json()["state"] == "queued"
    assert st.service.store.get(1) is not None
    not_review = requests.post(f"{base}/api/v1/jobs/2/accept", headers=right, timeout=10)
    assert not_review.status_code == 409 and "held for review" in not_review.json()["detail"]
    missing = requests.post(f"{base}/api/v1/jobs/99/retry", headers=right, timeout=10)
    assert missing.status_code == 404
    unresolved = requests.post(
        f"{base}/api/v1/jobs/2/resolve", params={"viggle_job": "job_x"}, headers=right, timeout=10
    )
    assert unresolved.status_code == 409 and "only uncertain jobs" in unresolved.json()["detail"]


def test_events_stream_as_they_happen(api: Any) -> None:
    """`GET /api/v1/events`: what the service emits arrives on an open stream, as SSE."""
    from viggle_watch.notify.events import sample

    base, st = api()
    with requests.get(f"{base}/api/v1/events", stream=True, timeout=30) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = answer.iter_lines(decode_unicode=True)
        assert next(lines) == ": viggle-watch events"
        sent = sample("review", 0.0)
        wait_for(lambda: _watched(st))  # the stream is listening
        st.service.outbox.emit(sent)
        got = [next(lines) for _ in range(4)]
    assert got[1:4] == [f"id: {sent.id}", "event: review", "data: " + json.dumps(sent.as_json())]


def _watched(st: Stepper) -> bool:
    return bool(st.service.outbox._watchers)
