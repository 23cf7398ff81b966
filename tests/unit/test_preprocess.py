"""Tests for viggle_watch.render.preprocess: one step at a time towards a ready asset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from viggle_watch import errors
from viggle_watch.render.preprocess import AssetCalls, Remote, Step, ensure
from viggle_watch.store.assets import Asset, AssetKind, AssetStatus, AssetStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.sqlite import Database
from viggle_watch.viggle.schemas import AssetCreated

T0 = 1_700_000_000.0
DAY = "2023-11-14"  # the UTC day of T0
CHAR = AssetKind.CHARACTER
SCENE = AssetKind.SCENE
KEY = "a" * 64
JOB = 3


@dataclass
class Seen:
    """What the fake API saw, and the store as it was at the moment of each create."""

    creates: int = 0
    fetches: list[str] = field(default_factory=list)
    rows_at_create: list[Asset | None] = field(default_factory=list)
    spend_at_create: list[float] = field(default_factory=list)


@dataclass
class World:
    assets: AssetStore
    jobs: JobStore
    seen: Seen

    def calls(
        self,
        kind: AssetKind,
        *,
        created: Callable[[], AssetCreated] | None = None,
        remote: Callable[[str], Remote] | None = None,
    ) -> AssetCalls:
        """A fake API whose create/fetch record each call, then answer as given."""

        def create() -> AssetCreated:
            self.seen.creates += 1
            self.seen.rows_at_create.append(self.assets.get(kind, KEY))
            self.seen.spend_at_create.append(self.jobs.spent_on(DAY))
            if created is None:
                pytest.fail("create() must not be called here")
            return created()

        def fetch(viggle_id: str) -> Remote:
            self.seen.fetches.append(viggle_id)
            if remote is None:
                pytest.fail("fetch() must not be called here")
            return remote(viggle_id)

        return AssetCalls(create=create, fetch=fetch)

    def step(
        self, kind: AssetKind, calls: AssetCalls, at: float = T0, *, create: bool = True
    ) -> Step:
        """One ``ensure`` step for the asset KEY of ``kind`` on behalf of job JOB."""
        return ensure(self.assets, kind, KEY, calls, job_id=JOB, now=at, may_create=create)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A real store file with its asset cache and job store, and an empty call record."""
    db = Database.open(tmp_path / "state.db")
    yield World(AssetStore(db), JobStore(db), Seen())
    db.close()


def answer(**payload: object) -> Callable[[], AssetCreated]:
    """A create() that returns the API's JSON ``payload``."""
    return lambda: AssetCreated.model_validate(payload)


def raising(exc: errors.ApiError) -> Callable[[], AssetCreated]:
    """A create() that fails with ``exc``."""

    def create() -> AssetCreated:
        raise exc

    return create


def status(remote: Remote) -> Callable[[str], Remote]:
    """A fetch() that answers ``remote`` for any id."""
    return lambda _id: remote


def fetch_raising(exc: errors.ApiError) -> Callable[[str], Remote]:
    """A fetch() that fails with ``exc``."""

    def fetch(_id: str) -> Remote:
        raise exc

    return fetch


def pending(world: World, kind: AssetKind, viggle_id: str) -> None:
    """Bring the asset to pending with ``viggle_id`` through a successful create."""
    step = world.step(kind, world.calls(kind, created=answer(id=viggle_id)))
    assert step == Step("waiting")


# --- creating --------------------------------------------------------------------------------


def test_first_step_commits_the_intent_then_creates(world: World) -> None:
    """The creating row and its credit exist before the POST; after it the row is pending."""
    step = world.step(CHAR, world.calls(CHAR, created=answer(character_id="chr_1")))
    assert (
        step,
        world.seen.rows_at_create,
        world.seen.spend_at_create,
        world.assets.get(CHAR, KEY),
        world.jobs.spent_on(DAY),
    ) == (
        Step("waiting"),
        [Asset(CHAR, KEY, "", AssetStatus.CREATING, JOB, "", T0, T0)],
        [1.0],
        Asset(CHAR, KEY, "chr_1", AssetStatus.PENDING, JOB, "", T0, T0),
        1.0,
    )


def test_a_scene_is_created_for_free(world: World) -> None:
    """Scenes cost nothing: no spend row is written for their intent."""
    step = world.step(SCENE, world.calls(SCENE, created=answer(scene_id="scn_1")))
    asset = world.assets.get(SCENE, KEY)
    assert (
        step,
        world.seen.spend_at_create,
        asset and asset.viggle_id,
        world.jobs.spent_on(DAY),
    ) == (
        Step("waiting"),
        [0.0],
        "scn_1",
        0.0,
    )


def test_a_creating_row_waits_without_calling_the_api(world: World) -> None:
    """An intent already committed (another step is creating it) is never created twice."""
    world.assets.begin_create(CHAR, KEY, job_id=99, at=T0)
    step = world.step(CHAR, world.calls(CHAR), at=T0 + 5)
    assert (step, world.seen) == (Step("waiting"), Seen())


@pytest.mark.parametrize(
    "exc",
    [
        errors.NotSentError("connection refused"),
        errors.ThrottledError("slow down", retry_after_s=3.0),
    ],
    ids=["not-sent", "throttled"],
)
@pytest.mark.parametrize("kind", [CHAR, SCENE])
def test_not_acted_on_forgets_the_intent_and_refunds(
    world: World, kind: AssetKind, exc: errors.ApiError
) -> None:
    """Not sent or 429: nothing happened at Viggle, so the row and its credit go; wait."""
    step = world.step(kind, world.calls(kind, created=raising(exc)))
    assert (step, world.assets.get(kind, KEY), world.jobs.spent_on(DAY), world.seen.creates) == (
        Step("waiting"),
        None,
        0.0,
        1,
    )


def test_not_acted_on_creates_again_on_the_next_step(world: World) -> None:
    """After a refused connection the next step makes a fresh intent and POSTs again."""
    world.step(CHAR, world.calls(CHAR, created=raising(errors.NotSentError("refused"))))
    step = world.step(CHAR, world.calls(CHAR, created=answer(id="chr_2")), at=T0 + 10)
    asset = world.assets.get(CHAR, KEY)
    assert (step, asset and asset.status, world.jobs.spent_on(DAY), world.seen.creates) == (
        Step("waiting"),
        AssetStatus.PENDING,
        1.0,
        2,
    )


def test_402_forgets_the_intent_and_says_budget(world: World) -> None:
    """Too few credits: no charge, no row, and the job is told to wait for the budget."""
    exc = errors.CreditsError("insufficient credits", http_status=402)
    step = world.step(CHAR, world.calls(CHAR, created=raising(exc)))
    assert (step, world.assets.get(CHAR, KEY), world.jobs.spent_on(DAY)) == (
        Step("budget", reason="insufficient credits (HTTP 402)"),
        None,
        0.0,
    )


def test_lost_answer_for_a_character_is_uncertain_and_keeps_the_spend(world: World) -> None:
    """A character may have been charged: the row is uncertain and its credit stays counted."""
    exc = errors.OutcomeUnknownError("read timeout after sending")
    step = world.step(CHAR, world.calls(CHAR, created=raising(exc)))
    assert (step, world.assets.get(CHAR, KEY), world.jobs.spent_on(DAY)) == (
        Step("uncertain", reason="character creation outcome unknown: read timeout after sending"),
        Asset(CHAR, KEY, "", AssetStatus.UNCERTAIN, JOB, "read timeout after sending", T0, T0),
        1.0,
    )


def test_an_uncertain_character_is_never_created_again(world: World) -> None:
    """Later steps report uncertain without calling the API (a person decides)."""
    exc = errors.OutcomeUnknownError("reset")
    world.step(CHAR, world.calls(CHAR, created=raising(exc)))
    step = world.step(CHAR, world.calls(CHAR), at=T0 + 60)
    assert (step, world.seen.creates, world.seen.fetches) == (
        Step("uncertain", reason="character creation outcome unknown: reset"),
        1,
        [],
    )


def test_lost_answer_for_a_scene_is_forgotten(world: World) -> None:
    """Scenes are free: a lost creation is simply made again later."""
    exc = errors.OutcomeUnknownError("read timeout after sending")
    step = world.step(SCENE, world.calls(SCENE, created=raising(exc)))
    assert (step, world.assets.get(SCENE, KEY), world.jobs.spent_on(DAY)) == (
        Step("waiting"),
        None,
        0.0,
    )


def test_refused_creation_fails_and_refunds(world: World) -> None:
    """A refused POST cost nothing: the asset is failed with the reason, the credit refunded."""
    exc = errors.RejectedError("image has no person", http_status=400, code="E1")
    step = world.step(CHAR, world.calls(CHAR, created=raising(exc)))
    asset = world.assets.get(CHAR, KEY)
    assert (step, asset and (asset.status, asset.detail), world.jobs.spent_on(DAY)) == (
        Step("failed", reason=f"character was refused: {exc}"),
        (AssetStatus.FAILED, str(exc)),
        0.0,
    )


def test_a_refused_key_makes_nothing_and_holds(world: World) -> None:
    """401: not the character's fault: nothing kept, the credit back, made again later; the
    step says the key was refused (the preparer then holds all new paid work)."""
    exc = errors.AuthError("bad key", http_status=401)
    step = world.step(CHAR, world.calls(CHAR, created=raising(exc)))
    assert (step.outcome, world.assets.get(CHAR, KEY), world.jobs.spent_on(DAY)) == (
        "key_refused",
        None,
        0.0,
    )


def test_while_held_nothing_new_is_made_but_what_exists_is_polled(world: World) -> None:
    """Paused (or the key refused): no creation, no credit; a character made before the
    pause is still polled until it is ready."""
    held = world.step(CHAR, world.calls(CHAR), create=False)
    nothing = (held, world.seen.creates, world.assets.get(CHAR, KEY))
    world.step(CHAR, world.calls(CHAR, created=answer(character_id="chr_1")))  # before the pause
    polled = world.calls(CHAR, remote=lambda _id: Remote("ready"))
    ready = world.step(CHAR, polled, at=T0 + 5, create=False)
    assert (nothing, ready.outcome) == ((Step("waiting"), 0, None), "ready")


def test_a_failed_asset_stays_failed(world: World) -> None:
    """Later steps report the stored failure without calling the API."""
    world.step(CHAR, world.calls(CHAR, created=raising(errors.RejectedError("too small"))))
    step = world.step(CHAR, world.calls(CHAR), at=T0 + 60)
    assert (step, world.seen.creates) == (
        Step("failed", reason="character could not be made: too small"),
        1,
    )


# --- polling ---------------------------------------------------------------------------------


def test_pending_asset_is_polled_until_ready(world: World) -> None:
    """Processing: waiting; ready: the id and the duration, stored for every later step."""
    pending(world, SCENE, "scn_1")
    answers = iter([Remote("processing"), Remote("ready", duration_s=6.5)])
    calls = world.calls(SCENE, remote=lambda _id: next(answers))
    steps = [world.step(SCENE, calls, at=T0 + dt) for dt in (5, 10)]
    cached = world.step(SCENE, world.calls(SCENE), at=T0 + 20)
    assert (steps, cached, world.seen.fetches, world.assets.get(SCENE, KEY)) == (
        [Step("waiting"), Step("ready", "scn_1", 6.5)],
        Step("ready", "scn_1", 6.5),
        ["scn_1", "scn_1"],
        Asset(SCENE, KEY, "scn_1", AssetStatus.READY, JOB, "", T0, T0 + 10, 6.5),
    )


def test_a_character_is_ready_without_a_duration(world: World) -> None:
    """Characters have no output length: ready with duration None."""
    pending(world, CHAR, "chr_1")
    step = world.step(CHAR, world.calls(CHAR, remote=status(Remote("ready"))), at=T0 + 5)
    assert step == Step("ready", "chr_1", None)


def test_remote_failure_fails_with_its_reason(world: World) -> None:
    """Viggle could not process the asset: failed, with Viggle's words or a default."""
    pending(world, SCENE, "scn_1")
    pending(world, CHAR, "chr_1")  # same KEY, other kind
    scene = world.step(SCENE, world.calls(SCENE, remote=status(Remote("failed", error="no body"))))
    char = world.step(CHAR, world.calls(CHAR, remote=status(Remote("failed"))))
    asset = world.assets.get(SCENE, KEY)
    assert (scene, char, asset and (asset.status, asset.detail), world.jobs.spent_on(DAY)) == (
        Step("failed", reason="scene failed at Viggle: no body"),
        Step("failed", reason="character failed at Viggle: Viggle could not process it"),
        (AssetStatus.FAILED, "no body"),
        1.0,  # the character was made (charged) before Viggle failed it
    )


def test_unknown_to_the_api_is_gone_and_forgotten(world: World) -> None:
    """A 404 on poll: the row is forgotten (to be made again) and the step says gone."""
    pending(world, CHAR, "chr_1")
    step = world.step(
        CHAR, world.calls(CHAR, remote=fetch_raising(errors.NotFoundError("no such id")))
    )
    assert (step, world.assets.get(CHAR, KEY), world.jobs.spent_on(DAY)) == (
        Step("gone", reason="Viggle no longer knows character chr_1"),
        None,
        1.0,
    )


def test_a_failed_poll_just_waits(world: World) -> None:
    """A transient GET failure changes nothing: try again next step."""
    pending(world, SCENE, "scn_1")
    before = world.assets.get(SCENE, KEY)
    step = world.step(SCENE, world.calls(SCENE, remote=fetch_raising(errors.TransientError("502"))))
    assert (step, world.assets.get(SCENE, KEY)) == (Step("waiting"), before)
