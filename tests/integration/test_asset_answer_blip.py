"""Issue 19 §2, for paid asset creations (preprocessed mode): the store goes away right after
the POST that created a character (1 credit). The character's Viggle id reaches the store once
it is back — or through the local journal when the host stops during the blip — by the same
path as a render's answer (``render.recorder``): the job renders with that character, which
Viggle made once; nothing becomes ``uncertain``.

Two hosts on one real PostgreSQL, reached through a TCP forwarder the test cuts
(``tests/support/pgproxy.py``, as in ``test_store_blip.py``). The emulator holds each request
``DELAY_S`` before it acts on it, so the cut falls between the POST leaving and its answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.pgproxy import proxied
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import Workspace, dance_rule, drop
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.outputs.documents import Status
from viggle_watch.render.asset_answers import AssetAnswer
from viggle_watch.render.journal import JOURNAL, Journal
from viggle_watch.store.assets import Asset, AssetKind, AssetStatus, AssetStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.postgres import PostgresDatabase
from viggle_watch.store.states import State

DELAY_S = 2.0  # the emulator sits on each request this long before it acts on it
CHARACTER_POST = "POST /api/characters/preprocess"
HOSTS = ("alpha", "beta")


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as running:
        yield running


@pytest.fixture
def observer(pg_url: str) -> Iterator[tuple[JobStore, AssetStore]]:
    """The store as the test sees it: straight to the server, never through the cut."""
    db = PostgresDatabase.open(pg_url, host="observer")
    try:
        yield JobStore(db), AssetStore(db)
    finally:
        db.close()


def stats(emu: RunningEmulator) -> dict[str, Any]:
    got: dict[str, Any] = requests.get(f"{emu.url}/_sim/stats", timeout=10).json()
    return got


def character_posts(emu: RunningEmulator) -> int:
    return int(stats(emu)["calls"].get(CHARACTER_POST, 0))


def prepare_during_a_cut(emu: RunningEmulator, hosts: list[Stepper], cut: Any) -> list[str]:
    """Each host's prepare tick sends its character's POST; the store is cut while they are
    on the wire. Returns what the ticks raised (the store was away for what came next)."""
    emu.emulator.set_faults(Faults(request_delay_s=DELAY_S))
    raised: list[str] = []

    def prepare(host: Stepper) -> None:
        try:
            host.service.preparer.tick(host.clock.time())
        except Exception as exc:  # the store is away for the rest of the tick
            raised.append(str(exc))

    ticks = [threading.Thread(target=prepare, args=(h,)) for h in hosts]
    for tick in ticks:
        tick.start()
    wait_for(lambda: character_posts(emu) == len(hosts), what="the character POSTs on the wire")
    cut()
    for tick in ticks:
        tick.join(timeout=60)
    emu.emulator.set_faults(Faults())
    return raised


def test_character_ids_reach_the_store_after_a_blip(
    stepper_for: Any,
    workspace: Workspace,
    pg_url: str,
    emu: RunningEmulator,
    observer: tuple[JobStore, AssetStore],
) -> None:
    """Both hosts' characters are made (and charged) while the store is away; once it is
    back, each host writes its character's id: both jobs render and are done, each character
    made once."""
    jobs, assets = observer
    rule = dance_rule(mode="preprocessed", model="V4_Preview")
    with proxied(pg_url) as proxy:
        hosts: list[Stepper] = [
            stepper_for(
                emu.url,
                rules=[rule],
                state_dir=f"state-{n}",
                store={"url": proxy.url, "host": n, "lease": "60s"},
            )
            for n in HOSTS
        ]
        for n, host in enumerate(hosts):  # one job each, admitted (held) by its own host
            drop(workspace.watch / f"c{n}.png", workspace.character(seed=n + 1))
            host.ingest()
            host.service.preparer.tick(host.clock.time())
        assert {j.owner for j in jobs.latest(state=State.PREPARING)} == set(HOSTS)
        prepare_during_a_cut(emu, hosts, proxy.cut)
        made = {c["character_id"] for c in stats(emu)["character_creations"]}
        creating = [a.status for a in _characters(assets, workspace, 2)]
        proxy.restore()

        def done() -> bool:
            for host in hosts:
                host.step(0.5)
            return all(j.state == State.DONE for j in jobs.latest())

        wait_for(done, timeout_s=60, what="both jobs done once the store is back")
    rows = _characters(assets, workspace, 2)
    journals = [workspace.root / f"state-{n}" / JOURNAL for n in HOSTS]
    assert (len(made), creating) == (2, [AssetStatus.CREATING] * 2)  # both answers were cut
    assert (
        len(stats(emu)["character_creations"]),
        {r.viggle_id for r in rows} == made,
        [r.status for r in rows],
        {s["character_id"] for s in stats(emu)["render_submissions"]} == made,
        [p.exists() for p in journals],
    ) == (2, True, [AssetStatus.READY] * 2, True, [False, False])


def test_a_character_id_kept_through_a_stop_is_written_at_the_next_start(
    stepper_for: Any,
    workspace: Workspace,
    pg_url: str,
    emu: RunningEmulator,
    observer: tuple[JobStore, AssetStore],
) -> None:
    """Host alpha stops while the store is away, its character's id unwritten: the id is in
    its journal, and its next start writes it before recovery — the job renders with that
    character instead of becoming ``uncertain``; host beta, running too, takes nothing."""
    jobs, assets = observer
    rule = dance_rule(mode="preprocessed", model="V4_Preview")
    with proxied(pg_url) as proxy:

        def host(name: str) -> Stepper:
            store = {"url": proxy.url, "host": name, "lease": "60s"}
            made: Stepper = stepper_for(
                emu.url, rules=[rule], state_dir=f"state-{name}", store=store
            )
            return made

        alpha = host("alpha")
        drop(workspace.watch / "c0.png", workspace.character(seed=1))
        alpha.ingest()
        alpha.service.preparer.tick(alpha.clock.time())
        prepare_during_a_cut(emu, [alpha], proxy.cut)
        alpha.service.submitter.recorder.close()  # a clean stop while the store is away
        alpha.service.db.close()
        journal = Journal(workspace.root / "state-alpha" / JOURNAL)
        kept = [a.viggle_id for a in journal.load() if isinstance(a, AssetAnswer)]
        proxy.restore()
        said = _status(workspace.root / "config.yaml")  # alpha's config: the last one written
        beta, alpha = host("beta"), host("alpha")  # alpha's next start: replay, then recover
        alpha.service.submitter.recorder.replay()
        alpha.service.keeper.recover(alpha.clock.time())

        def done() -> bool:
            for each in (alpha, beta):
                each.step(0.5)
            return [j.state for j in jobs.latest()] == [State.DONE]

        wait_for(done, timeout_s=60, what="the job done after alpha's next start")
    made = [c["character_id"] for c in stats(emu)["character_creations"]]
    (row,) = _characters(assets, workspace, 1)
    (job,) = jobs.latest()
    assert (
        kept,
        made,
        (row.viggle_id, row.status),
        [s["character_id"] for s in stats(emu)["render_submissions"]],
        job.owner in ("alpha", None),
        journal.path.exists(),
    ) == (made, made[:1], (made[0], AssetStatus.READY), made, True, False)
    # `status`, while it waited: the answer, its job, in words a person reads
    doc, text = said
    Status.model_validate(doc)
    assert (doc["pending_answers"]["count"], doc["pending_answers"]["jobs"]) == (1, [1])
    assert re.search(
        r"waiting: 1 answer from Viggle waits to be written to the store \(oldest \d+ s\): job 1\n",
        text,
    ), text


def _status(config: Path) -> tuple[dict[str, Any], str]:
    """`status --json`, then `status`, of ``config`` (a wide terminal: one line each)."""
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    done = run_cli("status", "--json", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    shown = run_cli("status", "--config", str(config), env=env)
    assert shown.returncode == 0, shown.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc, shown.stdout


def _characters(assets: AssetStore, workspace: Workspace, seeds: int) -> list[Asset]:
    """The character rows of the images of seeds 1.. ``seeds``, in that order."""
    rows = []
    for seed in range(1, seeds + 1):
        key = hashlib.sha256(workspace.character(seed=seed)).hexdigest()
        row = assets.get(AssetKind.CHARACTER, key)
        assert row is not None
        rows.append(row)
    return rows
