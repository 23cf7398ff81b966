"""How an emulator behaves: timings, keys, credits, templates, randomness and faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from viggle_watch.emulator.faults import Faults

DEFAULT_BALANCE: Final = 10_000.0


@dataclass
class EmulatorConfig:
    """How the emulator behaves: job latency, accepted keys, credits, its clock and its faults."""

    latency_s: float = 3.0
    """Seconds from submit to ``complete`` (half of it for ``fast`` renders)."""
    keys: frozenset[str] | None = None
    """Accepted API keys; None accepts any key that starts with ``sk-``."""
    clock: Callable[[], float] = time.monotonic
    """Seconds; every lifecycle, expiry and timestamp follows it (tests pass a fake)."""
    balance: float = DEFAULT_BALANCE
    """Starting credits of every API key (each key has its own balance)."""
    asset_delay_s: float = 1.0
    """Seconds a character, scene or template import takes to become ``ready``."""
    templates_path: Path | None = None
    """A YAML template table to use instead of the packaged ``templates.yaml``."""
    seed: int = 0
    """Seed of the ``random.Random`` behind every fault decision and latency jitter."""
    faults: Faults = field(default_factory=Faults)
    """Faults in force at start; change them with ``Emulator.set_faults`` or /_sim/faults."""
    sleep: Callable[[float], None] = time.sleep
    """How ``Faults.request_delay_s`` waits (tests pass a recorder)."""
