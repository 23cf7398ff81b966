"""Pure: the answer to an asset's creation (preprocessed mode) as a write the store must take
(docs/reliability.md §2.3). A character costs a credit: its Viggle id, once the POST came back,
must reach the store like a render's (``render.recorder`` keeps both kinds of answer).

The write moves the asset's row from its intent (``creating``, made at ``intent_at``) to what
Viggle said: ``pending`` with its id, ``failed``, ``uncertain``, or the row dropped (not made,
its credit given back). Every later try first looks at the row as it now stands (``decide``):
a write already made is known by its id or its status, and a row whose intent is newer than
the answer's (the row was dropped and made again) is never touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from viggle_watch.render.unrecorded import SAME_TIME_S, Verdict
from viggle_watch.store.assets import Asset, AssetKind, AssetStatus

DROPPED: Final = "dropped"  # the answer removes the row: not made (refused, or never sent)
_ENDS: Final = frozenset({AssetStatus.PENDING, AssetStatus.FAILED, AssetStatus.UNCERTAIN})


@dataclass(frozen=True, slots=True)
class AssetAnswer:
    """One creation's answer: the asset, its intent's time, where the row goes, why."""

    kind: AssetKind
    key: str
    job_id: int  # the job that asked for it (said in the log, shown by `status`)
    intent_at: float  # the row's ``created_at``: the intent this answers
    to: AssetStatus | None  # None: the row is dropped
    at: float
    viggle_id: str = ""
    detail: str = ""
    refund: bool = False  # its credit is given back (refused, or never sent)
    sent: bool = True

    @property
    def viggle_job_id(self) -> str | None:  # the id a person would look for, as on a render
        return self.viggle_id or None

    def as_json(self) -> dict[str, Any]:
        return {
            "asset_kind": str(self.kind),
            "asset_key": self.key,
            "job_id": self.job_id,
            "intent_at": self.intent_at,
            "to": str(self.to) if self.to else DROPPED,
            "at": self.at,
            "viggle_id": self.viggle_id,
            "detail": self.detail,
            "refund": self.refund,
            "sent": self.sent,
        }

    @classmethod
    def of_json(cls, doc: dict[str, Any]) -> AssetAnswer:
        """The answer a journal line holds; ``ValueError`` saying what is wrong with it."""
        try:
            to = None if doc["to"] == DROPPED else AssetStatus(doc["to"])
            if to is not None and to not in _ENDS:
                raise ValueError(f"{to} is not where an answer leads")
            job_id = doc["job_id"]
            if isinstance(job_id, bool) or not isinstance(job_id, int):
                raise ValueError(f"{job_id!r} is not a whole number")
            return cls(
                kind=AssetKind(doc["asset_kind"]),
                key=str(doc["asset_key"]),
                job_id=job_id,
                intent_at=_number(doc["intent_at"]),
                to=to,
                at=_number(doc["at"]),
                viggle_id=str(doc.get("viggle_id", "")),
                detail=str(doc.get("detail", "")),
                refund=doc.get("refund") is True,
                sent=doc.get("sent", True) is not False,
            )
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]} is missing") from None


@dataclass(frozen=True, slots=True)
class AssetDecision:
    verdict: Verdict
    src: AssetStatus | None = None  # for WRITE: the status the row is moved from
    detail: str = ""


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def created(kind: AssetKind, key: str, job_id: int, now: float, viggle_id: str) -> AssetAnswer:
    """A 2xx with the asset's id: it is being made at Viggle (``pending``)."""
    return AssetAnswer(kind, key, job_id, now, AssetStatus.PENDING, now, viggle_id)


def decide(answer: AssetAnswer, row: Asset | None) -> AssetDecision:
    """What to do with a kept ``answer``, given the asset's row as it now stands."""
    if row is None:
        if answer.to is None:
            return AssetDecision(Verdict.WRITTEN)  # dropped already
        return AssetDecision(Verdict.NOTE, detail=f"{answer.kind} {answer.key} is no longer stored")
    if abs(row.created_at - answer.intent_at) >= SAME_TIME_S:
        # a newer intent (the row was dropped, then made again): this answer is not its own
        if answer.to is None:
            return AssetDecision(Verdict.WRITTEN)
        return AssetDecision(Verdict.NOTE, detail=f"{answer.kind} {answer.key} was asked for again")
    if row.status is AssetStatus.CREATING:
        return AssetDecision(Verdict.WRITE, AssetStatus.CREATING, answer.detail)
    if answer.viggle_id and row.viggle_id == answer.viggle_id:
        return AssetDecision(Verdict.WRITTEN)
    if row.status is answer.to and not answer.viggle_id and row.detail == answer.detail:
        return AssetDecision(Verdict.WRITTEN)
    # the id is the proof a person would look for: it moves an uncertain row on
    if row.status is AssetStatus.UNCERTAIN and answer.viggle_id and not row.viggle_id:
        return AssetDecision(Verdict.WRITE, AssetStatus.UNCERTAIN, answer.detail)
    if not answer.sent:
        return AssetDecision(Verdict.DROP, detail="nothing was sent")
    return AssetDecision(Verdict.NOTE, detail=f"{answer.kind} {answer.key} is {row.status} already")
