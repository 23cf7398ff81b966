"""No flood (issue 17): what one notify target is sent, decided purely (events and ``now`` in,
messages out). ``done`` events may be gathered into a digest ("12 renders done in dance, 34
credits"), sent once ``digest`` has passed since the first; the same problem (an event's
``key``) is not told again within ``repeat`` — the ones held back are counted and said with
the next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from viggle_watch.notify.events import Event


@dataclass(frozen=True, slots=True)
class Message:
    """One notification: what a target is sent."""

    title: str
    body: str
    level: str  # Apprise's type: info | success | warning | failure
    event: str  # the event's name, or "digest"
    source: Event | None = None  # the event told (None: a digest of several)


Send = Callable[[Message], "str | None"]  # a target's sender: None delivered, else why not


@dataclass(slots=True)
class _Gathered:
    renders: int = 0
    credits: float = 0.0


@dataclass(slots=True)
class Flood:
    """One target's memory: the digest being gathered, and when each problem was last told."""

    digest_s: float | None
    repeat_s: float
    first_at: float | None = None
    gathered: dict[str, _Gathered] = field(default_factory=dict)
    told_at: dict[str, float] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)

    def offer(self, event: Event, now: float) -> list[Message]:
        """The messages to send now for ``event`` (none while it is gathered or held)."""
        if event.name == "done" and self.digest_s is not None:
            if self.first_at is None:
                self.first_at = now
            rule = self.gathered.setdefault(event.rule or "", _Gathered())
            rule.renders += 1
            rule.credits += float(event.data.get("credits") or 0.0)
            return self.due(now)
        if event.key:
            last = self.told_at.get(event.key)
            if last is not None and now - last < self.repeat_s:
                self.held[event.key] = self.held.get(event.key, 0) + 1
                return []
            self.told_at[event.key] = now
            held = self.held.pop(event.key, 0)
            if held:
                more = f" ({held} more like it held back since)"
                return [Message(event.title, event.body + more, event.level, event.name, event)]
        return [Message(event.title, event.body, event.level, event.name, event)]

    def due(self, now: float, *, flush: bool = False) -> list[Message]:
        """The digest, once ``digest_s`` has passed since its first render (or on ``flush``)."""
        if self.first_at is None or self.digest_s is None:
            return []
        if not flush and now - self.first_at < self.digest_s:
            return []
        messages = [
            Message(
                f"{g.renders} render{'s' if g.renders != 1 else ''} done in {rule or 'all rules'}",
                f"{g.renders} render{'s' if g.renders != 1 else ''} done in rule {rule}, "
                f"{g.credits:g} credits.",
                "success",
                "digest",
            )
            for rule, g in sorted(self.gathered.items())
        ]
        self.first_at, self.gathered = None, {}
        return messages

    def next_due(self) -> float | None:
        """When the digest being gathered is due (None: none is)."""
        if self.first_at is None or self.digest_s is None:
            return None
        return self.first_at + self.digest_s
