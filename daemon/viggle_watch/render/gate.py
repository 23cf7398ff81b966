"""Whether new paid work may start now: the seam between the render ticks and the switches the
service keeps in the store (a person's ``pause``, a refused API key). A held gate stops new
submissions and preprocessing; polls and downloads of paid work go on."""

from __future__ import annotations

from typing import Protocol


class Gate(Protocol):
    def holding(self) -> str | None:
        """Why new paid work waits now, or None: go."""
        ...

    def key_refused(self, reason: str, now: float) -> None:
        """Viggle refused the API key: hold everything until a check passes."""
        ...


class OpenGate:
    """Open until told the key was refused, then held, in memory only (for tools and tests
    without a store's flags)."""

    def __init__(self) -> None:
        self.refusals: list[str] = []

    def holding(self) -> str | None:
        return f"key_refused: {self.refusals[-1]}" if self.refusals else None

    def key_refused(self, reason: str, now: float) -> None:
        self.refusals.append(reason)
