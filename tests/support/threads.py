"""Every test must stop the threads it starts."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest


def _library_pools() -> set[threading.Thread]:
    """Apprise (the notify extra) keeps two process-wide worker pools for the life of the
    process, by design: their threads are nobody's leak."""
    module = sys.modules.get("apprise.apprise")
    pools = (getattr(module, n, None) for n in ("_shared_executor", "_coordinator_executor"))
    return {t for pool in pools for t in getattr(pool, "_threads", ())}


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves threads running after it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    leaked: list[threading.Thread] = []
    while time.monotonic() < deadline:
        pools = _library_pools()
        leaked = [
            t for t in threading.enumerate() if t not in before and t not in pools and t.is_alive()
        ]
        if not leaked:
            return
        time.sleep(0.05)
    pytest.fail(f"test leaked threads: {[t.name for t in leaked]}")
