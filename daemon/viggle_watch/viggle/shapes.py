"""Pure: an answer's shape against what the client reads from it — the fields it needs and
lacks, the fields it does not know, the ones of another type (for `viggle-watch doctor`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import AliasChoices, BaseModel, ValidationError


@dataclass(frozen=True, slots=True)
class Shape:
    missing: list[str] = field(default_factory=list)  # needed by the client, not sent
    extra: list[str] = field(default_factory=list)  # sent, not read by the client (harmless)
    mistyped: list[str] = field(default_factory=list)  # sent, but not readable as its type
    readable: bool = True  # the client can read the answer as it is

    def said(self) -> str:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("missing", self.missing),
                ("of another type", self.mistyped),
                ("not read", self.extra),
            )
            if names
        ]
        return "; ".join(parts) or "as expected"


def _names(model: type[BaseModel]) -> set[str]:
    """Every key the model reads: field names and their aliases."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(str(c) for c in alias.choices if isinstance(c, str))
    return names


def shape_of(model: type[BaseModel], body: Any) -> Shape:
    """How ``body`` (an answer, unwrapped) compares with ``model``."""
    if not isinstance(body, dict):
        return Shape(missing=["an object"], readable=False)
    extra = sorted(k for k in body if k not in _names(model))
    try:
        model.model_validate(body)
    except ValidationError as exc:
        missing: list[str] = []
        mistyped: list[str] = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "answer"
            (missing if error["type"] == "missing" else mistyped).append(where)
        return Shape(sorted(missing), extra, sorted(mistyped), readable=False)
    return Shape(extra=extra)
