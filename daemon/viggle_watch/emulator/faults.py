"""Fault injection for the emulator: what can go wrong, and the seeded dice that decide when.

:class:`Faults` is a plain value (every field documented); :class:`FaultInjector` holds the
current value and one ``random.Random(seed)`` so that a run with the same seed, the same faults
and the same sequence of requests injects the same faults. A rate is drawn from the dice only
when it is strictly between 0 and 1, so the default (no faults) consumes no randomness.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from viggle_watch.errors import ConfigError

# The values of Faults.broken_output: "none" and the ways media.synth spoils a result (which
# owns them, as it makes them); re-exported so that callers find them beside the field.
from viggle_watch.media.synth import BROKEN_OUTPUTS as BROKEN_OUTPUTS

GATEWAY_ERRORS: Final = (500, 502, 503)
_RATES: Final = (
    "rate_429",
    "rate_5xx",
    "rate_drop_after_read",
    "rate_truncate_download",
    "rate_render_failure",
)
_SECONDS: Final = ("latency_jitter_s", "request_delay_s")
_OPTIONAL_SECONDS: Final = ("retry_after_s", "cdn_expiry_s")
_FLAGS: Final = ("ignore_range", "fast_unavailable", "legacy", "refuse_keys", "report_cost")
_TEXT: Final = ("render_failure_code",)
_NAMES: Final = ("drift", "broken_output")  # one of drift.VARIANTS, one of BROKEN_OUTPUTS


@dataclass(frozen=True, slots=True)
class Faults:
    """The emulator's bad days. Every rate is a share in [0, 1] of the requests it applies to.

    API faults (429, 5xx, dropped connections, ``request_delay_s``, ``legacy``) apply to the
    ``/api/*`` routes; download faults to ``/cdn/*``; nothing ever applies to ``/_sim/*``.
    """

    latency_jitter_s: float = 0.0
    """Each render takes ``latency_s`` ± a uniform draw of up to this many seconds."""
    request_delay_s: float = 0.0
    """Sleep this long before answering any /api or /cdn request (tests leave it at 0)."""
    rate_429: float = 0.0
    """Share of API calls answered 429 (not acted on) with ``Retry-After``."""
    retry_after_s: float | None = 1.0
    """Seconds sent in ``Retry-After`` (rounded up to whole seconds); None sends no header."""
    rate_5xx: float = 0.0
    """Share of API calls answered 500, 502 or 503 (not acted on; 502/503 with an HTML body)."""
    rate_drop_after_read: float = 0.0
    """Share of successful POSTs that are acted on (and charged) but get no HTTP response:
    the connection is closed after the request was read ("outcome unknown")."""
    rate_truncate_download: float = 0.0
    """Share of CDN downloads that announce the full Content-Length but stop half-way."""
    ignore_range: bool = False
    """The CDN answers 200 with the whole file even when a ``Range`` was asked for."""
    cdn_expiry_s: float | None = None
    """Signed CDN URLs answer 403 this many seconds after issue (None: never expire).
    Every status GET issues fresh URLs."""
    broken_output: str = "none"
    """Every result the CDN serves is spoiled so (``BROKEN_OUTPUTS``), as if Viggle had stored
    a broken render: ``truncated`` the MP4 cut at half its bytes, served whole (Content-Length
    is the cut size); ``black`` every frame black; ``frozen`` the first frame for the whole
    length; ``short`` half the asked length (the mask too); ``empty_mask`` / ``full_mask`` a
    transparent render's mask all black / all white, its video good. ``black`` spares the mask
    and the mask kinds change nothing for a render that has none (``media.synth.breaks``)."""
    rate_render_failure: float = 0.0
    """Share of renders that end ``failed`` (with ``render_failure_code``); credits refunded."""
    render_failure_code: str = "CS-UORC01-009"
    """The ``error_code`` of a failed render."""
    fast_unavailable: bool = False
    """``fast=true`` renders are refused with 400 CS-UORC01-001."""
    refuse_keys: bool = False
    """Every API call is answered 401, as for a revoked key; lifted, the same key works again."""
    drift: str = "none"
    """Answer as the real API might where the docs leave room (``emulator.drift.VARIANTS``)."""
    report_cost: bool = False
    """A complete render's status carries its cost as ``credits_used`` (the public docs show
    no cost in render answers; a real API may send one)."""
    legacy: bool = False
    """Answer like the old API: ``{"data": ...}`` envelopes, statuses ``pending`` /
    ``rendering`` / ``merging``, and errors with top-level ``error_code`` / ``message``."""

    def __post_init__(self) -> None:
        for name in _RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"faults.{name} must be between 0 and 1, got {value}")
        if self.rate_429 + self.rate_5xx > 1.0:
            raise ConfigError("faults.rate_429 + faults.rate_5xx must not exceed 1")
        for name in (*_SECONDS, *_OPTIONAL_SECONDS):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"faults.{name} must not be negative, got {value}")
        if self.broken_output not in BROKEN_OUTPUTS:
            raise ConfigError(_not_one_of("broken_output", self.broken_output, BROKEN_OUTPUTS))

    def as_json(self) -> dict[str, object]:
        """Return the fields as a JSON-ready dict (the ``/_sim/faults`` document)."""
        return dataclasses.asdict(self)


def _not_one_of(name: str, value: object, allowed: Iterable[str]) -> str:
    return f"faults.{name}: {value!r} is not one of {', '.join(allowed)}"


def _field_value(name: str, value: object) -> object:
    """Check one JSON value against the type of field ``name``; raise ConfigError if wrong."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if name in _RATES or name in _SECONDS:
        ok = number
    elif name in _OPTIONAL_SECONDS:
        ok = number or value is None
    elif name in _FLAGS:
        ok = isinstance(value, bool)
    elif name in _NAMES:
        from viggle_watch.emulator.drift import VARIANTS

        allowed = BROKEN_OUTPUTS if name == "broken_output" else tuple(VARIANTS)
        ok = isinstance(value, str) and value in allowed
        if not ok:
            raise ConfigError(_not_one_of(name, value, allowed))
    elif name in _TEXT:
        ok = isinstance(value, str) and bool(value)
    else:
        raise ConfigError(f"unknown fault {name!r}")
    if not ok:
        raise ConfigError(f"faults.{name}: wrong type {type(value).__name__}")
    return float(value) if number else value  # type: ignore[arg-type]


def updated_faults(current: Faults, changes: Mapping[str, object]) -> Faults:
    """Return ``current`` with the fields in ``changes`` (a parsed JSON object) replaced.

    Raises :class:`ConfigError` for an unknown field, a wrong type or an out-of-range value.
    """
    values = {name: _field_value(name, value) for name, value in changes.items()}
    return dataclasses.replace(current, **values)  # type: ignore[arg-type]


class FaultInjector:
    """The current :class:`Faults` and the seeded dice; thread-safe."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self._seed = seed
        self._faults = faults
        self._lock = threading.Lock()
        # Not for security: reproducible fault injection is the point.
        self._rng = random.Random(seed)  # noqa: S311

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        with self._lock:
            return self._faults

    def set(self, faults: Faults) -> None:
        """Replace the faults in force (the dice keep rolling from where they were)."""
        with self._lock:
            self._faults = faults

    def reseed(self) -> None:
        """Restart the dice from the configured seed (``/_sim/reset``)."""
        with self._lock:
            self._rng.seed(self._seed)

    def _hit(self, rate: float) -> bool:
        """Caller holds the lock."""
        return rate > 0 and (rate >= 1 or self._rng.random() < rate)

    def gateway_error(self) -> int | None:
        """Return 429, 500, 502 or 503 for an API call to fail with, or None to serve it."""
        with self._lock:
            rate_429, rate_5xx = self._faults.rate_429, self._faults.rate_5xx
            if rate_429 + rate_5xx <= 0:
                return None
            draw = self._rng.random()
            if draw < rate_429:
                return 429
            if draw < rate_429 + rate_5xx:
                return self._rng.choice(GATEWAY_ERRORS)
            return None

    def drop_after_read(self) -> bool:
        """Decide whether to close this acted-on POST's connection without answering."""
        with self._lock:
            return self._hit(self._faults.rate_drop_after_read)

    def truncate_download(self) -> bool:
        """Decide whether to cut this CDN download short."""
        with self._lock:
            return self._hit(self._faults.rate_truncate_download)

    def render_fails(self) -> bool:
        """Decide at submit whether this render will end ``failed``."""
        with self._lock:
            return self._hit(self._faults.rate_render_failure)

    def render_latency_s(self, latency_s: float) -> float:
        """Return ``latency_s`` moved by a uniform draw within ± ``latency_jitter_s`` (≥ 0)."""
        with self._lock:
            jitter = self._faults.latency_jitter_s
            if jitter <= 0:
                return latency_s
            return max(0.0, latency_s + self._rng.uniform(-jitter, jitter))
