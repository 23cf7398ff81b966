"""Notifications through real Apprise (issue 17): `json://` and `form://` targets on 127.0.0.1
get every event; the service's own events (done, rejected) reach a target; a target that hangs
delays neither a render nor another target; a failing target is counted and named without its
URL. Receivers on 127.0.0.1, the emulator over loopback, the real store."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.support.hooks import Receiver, receiving
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import Workspace
from viggle_watch.config.notify import EVENT_NAMES, NotifyTarget
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.notify.events import sample
from viggle_watch.notify.outbox import build_outbox
from viggle_watch.notify.tally import read_status
from viggle_watch.store.states import State

T0 = 1_700_000_000.0


def apprise_url(receiver: Receiver, scheme: str) -> str:
    """The receiver's address as an Apprise URL (json://127.0.0.1:PORT/hook)."""
    return scheme + "://" + receiver.url.removeprefix("http://")


def target(url: str, **fields: Any) -> NotifyTarget:
    return NotifyTarget.model_validate({"url": url, "events": list(EVENT_NAMES), **fields})


def test_every_event_reaches_json_and_form_targets(tmp_path: Path) -> None:
    with receiving() as as_json, receiving() as as_form:
        outbox = build_outbox(
            [target(apprise_url(as_json, "json")), target(apprise_url(as_form, "form"))],
            clock=lambda: T0,
            state_dir=tmp_path,
        )
        outbox.start()
        for name in EVENT_NAMES:
            outbox.emit(sample(name, T0))
        outbox.stop(timeout_s=30)
    sent = [json.loads(r.body) for r in as_json.got]
    assert [s["title"] for s in sent] == [f"Test: the {name} event" for name in EVENT_NAMES]
    assert {s["type"] for s in sent} >= {"success", "warning", "failure", "info"}
    forms = [urllib.parse.parse_qs(r.body.decode()) for r in as_form.got]
    assert [f["title"][0] for f in forms] == [f"Test: the {name} event" for name in EVENT_NAMES]
    assert all("notify test" in f["message"][0] for f in forms)
    assert [(s["target"], s["sent"], s["failed"]) for s in read_status(tmp_path)] == [
        ("notify[0] json", len(EVENT_NAMES), 0),
        ("notify[1] form", len(EVENT_NAMES), 0),
    ]


def test_a_target_gets_only_its_events_and_rules(tmp_path: Path) -> None:
    with receiving() as got:
        outbox = build_outbox(
            [target(apprise_url(got, "json"), events=["failed", "folder"], rules=["dance"])],
            clock=lambda: T0,
        )
        outbox.start()
        for name in ("done", "failed", "folder"):
            outbox.emit(sample(name, T0))  # service-wide: no rule; reaches a rules filter
        outbox.stop(timeout_s=30)
    assert [json.loads(r.body)["title"] for r in got.got] == [
        "Test: the failed event",
        "Test: the folder event",
    ]


def test_a_render_done_and_an_input_refused_reach_a_target(
    stepper_for: Any, workspace: Workspace
) -> None:
    with receiving() as got, serve(EmulatorConfig(latency_s=0.2)) as emu:
        notify = [{"url": apprise_url(got, "json"), "events": ["done", "rejected"]}]
        st: Stepper = stepper_for(emu.url, notify=notify)
        st.service.outbox.start()
        make_character_png(workspace.watch / "hero.png")
        (workspace.watch / "broken.png").write_bytes(b"not a picture at all")
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE)
        wait_for(lambda: len(got.got) >= 2, timeout_s=30)
        st.service.outbox.stop()
    messages = {json.loads(r.body)["title"]: json.loads(r.body) for r in got.got}
    assert set(messages) == {"Render done: hero__dance.mp4", "Input refused: broken.png"}
    refused = messages["Input refused: broken.png"]["message"]
    assert "Nothing was spent" in refused and refused.startswith("Rule dance:")
    assert "hero.png in rule dance" in messages["Render done: hero__dance.mp4"]["message"]


def test_a_hanging_target_delays_neither_a_render_nor_another_target(
    stepper_for: Any, workspace: Workspace
) -> None:
    """One receiver does not answer (for 10 s); the render finishes and the other target is
    told while that one still hangs."""
    with receiving() as stuck, receiving() as fine, serve(EmulatorConfig(latency_s=0.2)) as emu:
        stuck.gate.clear()  # holds every answer until set (at most 10 s)
        notify = [
            {"url": apprise_url(stuck, "json"), "events": ["done"]},
            {"url": apprise_url(fine, "json"), "events": ["done"]},
        ]
        st: Stepper = stepper_for(emu.url, notify=notify)
        st.service.outbox.start()
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE)
        wait_for(lambda: len(fine.got) == 1 and len(stuck.got) == 1, timeout_s=30)
        assert not stuck.gate.is_set()  # still hanging: the render and the other did not wait
        stuck.gate.set()
        st.service.outbox.stop()


def test_a_failing_target_is_counted_and_never_named_by_its_url(tmp_path: Path) -> None:
    token = "s3cr3t-t0ken"
    url = f"json://user:{token}@127.0.0.1:9/hook"  # nothing listens on port 9
    with capture_logs() as logs:
        outbox = build_outbox([target(url, repeat="1s")], clock=lambda: T0, state_dir=tmp_path)
        outbox.start()
        outbox.emit(sample("key_refused", T0))
        outbox.stop(timeout_s=60)
    [status] = read_status(tmp_path)
    assert (status["target"], status["sent"], status["failed"]) == ("notify[0] json", 0, 1)
    assert status["last_error"]
    failed = [e for e in logs if e["event"] == "notification_failed"]
    assert failed and failed[0]["target"] == "notify[0] json"
    seen = json.dumps(logs, default=str) + (tmp_path / "notify-status.json").read_text()
    assert token not in seen


def test_a_url_file_is_read_and_a_bad_url_is_refused(tmp_path: Path) -> None:
    from viggle_watch.errors import ConfigError

    url_file = tmp_path / "discord.url"
    url_file.write_text("json://127.0.0.1:9/hook\n", encoding="utf-8")
    outbox = build_outbox(
        [NotifyTarget.model_validate({"url_file": str(url_file)})], clock=lambda: T0
    )
    assert [lane.label for lane in outbox.lanes] == ["notify[0] (discord.url)"]
    with pytest.raises(ConfigError, match="not one Apprise knows"):
        build_outbox([target("nosuchservice://x")], clock=lambda: T0)


def test_service_webhooks_get_the_events_they_want_signed(
    stepper_for: Any, workspace: Workspace, tmp_path: Path
) -> None:
    """Top-level `webhooks:` get service and job events as JSON, signed as Standard Webhooks
    says (verified by its library), each event with its own id."""
    from standardwebhooks.webhooks import Webhook

    secret = tmp_path / "hook.secret"
    secret.write_text("whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode())
    with receiving() as got, serve(EmulatorConfig(latency_s=0.2)) as emu:
        hooks = [{"url": got.url, "secret_file": str(secret), "events": ["done", "rejected"]}]
        st: Stepper = stepper_for(emu.url, webhooks=hooks)
        st.service.outbox.start()
        make_character_png(workspace.watch / "hero.png")
        (workspace.watch / "broken.png").write_bytes(b"not a picture at all")
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE)
        wait_for(lambda: len(got.got) >= 2, timeout_s=30)
        st.service.outbox.stop()
    verifier = Webhook(secret.read_text())
    bodies = [
        verifier.verify(r.body, {k.lower(): v for k, v in r.headers.items()}) for r in got.got
    ]
    assert sorted(b["event"] for b in bodies) == ["done", "rejected"]
    done = next(b for b in bodies if b["event"] == "done")
    assert (done["rule"], done["job_id"], done["title"]) == (
        "dance",
        1,
        "Render done: hero__dance.mp4",
    )
    assert len({r.headers["webhook-id"] for r in got.got}) == 2
    assert {r.headers["X-Viggle-Watch-Event"] for r in got.got} == {"done", "rejected"}


def test_events_and_what_each_target_came_to_are_counted_in_metrics(tmp_path: Path) -> None:
    from viggle_watch.notify.metrics import Metrics

    metrics = Metrics()
    with receiving() as got:
        outbox = build_outbox(
            [
                target(apprise_url(got, "json"), events=["failed"]),
                target("json://127.0.0.1:9/down", events=["failed"]),
            ],
            clock=lambda: T0,
        )
        outbox.count_with(metrics)
        outbox.start()
        outbox.emit(sample("failed", T0))
        outbox.emit(sample("done", T0))  # no target wants it: counted as an event all the same
        outbox.stop(timeout_s=60)
    text = metrics.exposition().decode()
    assert 'viggle_watch_events_total{event="failed"} 1.0' in text
    assert 'viggle_watch_events_total{event="done"} 1.0' in text
    assert 'viggle_watch_notifications_total{result="sent",target="notify[0] json"} 1.0' in text
    assert 'viggle_watch_notifications_total{result="failed",target="notify[1] json"} 1.0' in text


def test_done_renders_are_sent_as_one_digest(tmp_path: Path) -> None:
    """`digest: 1s`: three renders done in one rule and one in another become two messages,
    sent once the second has passed (real time: the lane waits on its own clock)."""
    import time

    from viggle_watch.notify.events import Event

    with receiving() as got:
        outbox = build_outbox(
            [target(apprise_url(got, "json"), events=["done"], digest="1s")], clock=time.time
        )
        outbox.start()
        for rule, credits in (("dance", 2.0), ("dance", 3.0), ("wave", 1.0), ("dance", 2.0)):
            data = {"credits": credits}
            outbox.emit(Event("done", "Render done", "…", time.time(), rule=rule, data=data))
        wait_for(lambda: len(got.got) >= 2, timeout_s=30)
        outbox.stop(timeout_s=30)
    sent = sorted(json.loads(r.body)["message"] for r in got.got)
    assert sent == [
        "1 render done in rule wave, 1 credits.",
        "3 renders done in rule dance, 7 credits.",
    ]
