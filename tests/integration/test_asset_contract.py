"""The asset cache's contract (creation intents and spending), on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from viggle_watch.errors import BudgetExceededError
from viggle_watch.store.assets import Asset, AssetKind, AssetStatus, AssetStore, scene_key
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import JobStore

T0 = 1_700_000_000.0
DAY = "2023-11-14"  # the UTC day of T0
CHAR = AssetKind.CHARACTER
SCENE = AssetKind.SCENE
TEMPLATE = AssetKind.TEMPLATE


@pytest.fixture
def assets(backend: Backend) -> AssetStore:
    """The asset cache over a fresh store (each backend in turn)."""
    return AssetStore(backend)


@pytest.fixture
def jobs(backend: Backend) -> JobStore:
    """The job store over the same database (to read the spend ledger)."""
    return JobStore(backend)


def intent(assets: AssetStore, kind: AssetKind, key: str, credits: float = 0.0) -> bool:
    """Commit a creation intent for job 7 at T0."""
    return assets.begin_create(kind, key, job_id=7, at=T0, credits=credits, day=DAY)


def test_begin_create_writes_a_creating_row_once(assets: AssetStore) -> None:
    """The first intent is recorded; a second one for the same asset is refused."""
    first = intent(assets, CHAR, "a" * 64)
    second = assets.begin_create(CHAR, "a" * 64, job_id=8, at=T0 + 5)
    assert (first, second, assets.get(CHAR, "a" * 64)) == (
        True,
        False,
        Asset(CHAR, "a" * 64, "", AssetStatus.CREATING, 7, "", T0, T0, None),
    )


def test_the_same_key_of_another_kind_is_another_asset(assets: AssetStore) -> None:
    """Kind and key together identify an asset."""
    assert [
        intent(assets, CHAR, "k"),
        intent(assets, SCENE, "k"),
        intent(assets, TEMPLATE, "k"),
    ] == [
        True,
        True,
        True,
    ]


def test_get_of_an_unknown_asset_is_none(assets: AssetStore) -> None:
    """Nothing recorded: None."""
    assert assets.get(SCENE, scene_key("b" * 64, "V4")) is None


def test_scene_key_joins_hash_and_model() -> None:
    """A scene is cached per video content and model."""
    assert scene_key("abc", "V4_Preview") == "abc:V4_Preview"


def test_begin_create_with_credits_records_the_spend(assets: AssetStore, jobs: JobStore) -> None:
    """A paid intent writes its credits on its day in the same transaction."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    intent(assets, CHAR, "c" * 64, credits=1.0)
    assert (jobs.spent_on(DAY), jobs.spent_on("2023-11-15")) == (2.0, 0.0)


def test_a_refused_intent_records_no_spend(assets: AssetStore, jobs: JobStore) -> None:
    """The second intent for an existing asset charges nothing."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    assert (intent(assets, CHAR, "a" * 64, credits=1.0), jobs.spent_on(DAY)) == (False, 1.0)


def test_begin_create_without_credits_records_no_spend(assets: AssetStore, jobs: JobStore) -> None:
    """Free assets (scenes) leave the ledger alone."""
    intent(assets, SCENE, "s")
    assert jobs.spent_on(DAY) == 0.0


def test_refund_removes_only_that_assets_spend(assets: AssetStore, jobs: JobStore) -> None:
    """A refund drops the spending of one asset; the row itself stays."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    intent(assets, CHAR, "c" * 64, credits=1.0)
    assets.refund(CHAR, "a" * 64)
    row = assets.get(CHAR, "a" * 64)
    assert (jobs.spent_on(DAY), row is not None and row.status) == (1.0, AssetStatus.CREATING)


def test_forget_with_refund_drops_row_and_spend(assets: AssetStore, jobs: JobStore) -> None:
    """forget(refund=True): the asset is unknown again and its credits are not counted."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    assets.forget(CHAR, "a" * 64, refund=True)
    assert (assets.get(CHAR, "a" * 64), jobs.spent_on(DAY)) == (None, 0.0)


def test_forget_without_refund_keeps_the_spend(assets: AssetStore, jobs: JobStore) -> None:
    """forget() alone: the row goes, the credits (maybe charged) stay counted."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    assets.forget(CHAR, "a" * 64)
    assert (assets.get(CHAR, "a" * 64), jobs.spent_on(DAY), intent(assets, CHAR, "a" * 64)) == (
        None,
        1.0,
        True,
    )


def test_set_records_what_the_api_said(assets: AssetStore) -> None:
    """set() stores the id, status, reason and duration and bumps updated_at."""
    intent(assets, SCENE, "s")
    assets.set(
        SCENE, "s", AssetStatus.READY, at=T0 + 9, viggle_id="scn_1", detail="ok", duration_s=4.5
    )
    assert assets.get(SCENE, "s") == Asset(
        SCENE, "s", "scn_1", AssetStatus.READY, 7, "ok", T0, T0 + 9, 4.5
    )


def test_set_keeps_fields_that_are_not_passed(assets: AssetStore) -> None:
    """None for viggle_id, detail or duration keeps the stored value."""
    intent(assets, SCENE, "s")
    assets.set(
        SCENE, "s", AssetStatus.PENDING, at=T0 + 1, viggle_id="scn_1", detail="made", duration_s=3.0
    )
    assets.set(SCENE, "s", AssetStatus.READY, at=T0 + 2)
    assert assets.get(SCENE, "s") == Asset(
        SCENE, "s", "scn_1", AssetStatus.READY, 7, "made", T0, T0 + 2, 3.0
    )


def test_recover_makes_paid_intents_uncertain_and_drops_free_ones(assets: AssetStore) -> None:
    """creating characters become uncertain (returned); creating scenes/templates vanish."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    intent(assets, SCENE, "s1")
    intent(assets, TEMPLATE, "t1")
    intent(assets, CHAR, "c" * 64, credits=1.0)
    assets.set(CHAR, "c" * 64, AssetStatus.PENDING, at=T0 + 1, viggle_id="chr_c")
    intent(assets, SCENE, "s2")
    assets.set(SCENE, "s2", AssetStatus.READY, at=T0 + 1, viggle_id="scn_2")
    lost = assets.recover(at=T0 + 100)
    detail = "service stopped while creating it; outcome unknown"
    assert (
        lost,
        assets.get(CHAR, "a" * 64),
        [assets.get(SCENE, "s1"), assets.get(TEMPLATE, "t1")],
        [a.status for a in (assets.get(CHAR, "c" * 64), assets.get(SCENE, "s2")) if a],
    ) == (
        [Asset(CHAR, "a" * 64, "", AssetStatus.CREATING, 7, "", T0, T0, None)],
        Asset(CHAR, "a" * 64, "", AssetStatus.UNCERTAIN, 7, detail, T0, T0 + 100, None),
        [None, None],
        [AssetStatus.PENDING, AssetStatus.READY],
    )


def test_recover_keeps_the_spend_of_uncertain_characters(
    assets: AssetStore, jobs: JobStore
) -> None:
    """A character that may have been charged stays counted against the day."""
    intent(assets, CHAR, "a" * 64, credits=1.0)
    assets.recover(at=T0 + 100)
    assert jobs.spent_on(DAY) == 1.0


def test_recover_with_nothing_lost_returns_nothing(assets: AssetStore) -> None:
    """No creating rows: nothing changes."""
    intent(assets, SCENE, "s")
    assets.set(SCENE, "s", AssetStatus.READY, at=T0 + 1, viggle_id="scn_1")
    before = assets.get(SCENE, "s")
    assert (assets.recover(at=T0 + 100), assets.get(SCENE, "s")) == ([], before)


def test_count_is_per_kind(assets: AssetStore) -> None:
    """count() counts the rows of one kind, whatever their status."""
    intent(assets, CHAR, "a")
    intent(assets, CHAR, "b")
    assets.set(CHAR, "b", AssetStatus.FAILED, at=T0)
    intent(assets, SCENE, "s")
    assert [assets.count(CHAR), assets.count(SCENE), assets.count(TEMPLATE)] == [2, 1, 0]


def test_a_paid_intent_over_the_daily_cap_commits_nothing(
    assets: AssetStore, jobs: JobStore
) -> None:
    """The cap is checked in the intent's transaction: over it, no row and no spend."""
    first = assets.begin_create(CHAR, "a" * 64, job_id=7, at=T0, credits=1.0, day=DAY, daily_cap=1)
    with pytest.raises(BudgetExceededError):
        assets.begin_create(CHAR, "b" * 64, job_id=8, at=T0, credits=1.0, day=DAY, daily_cap=1)
    assert (first, assets.get(CHAR, "b" * 64), jobs.spent_on(DAY)) == (True, None, 1.0)
