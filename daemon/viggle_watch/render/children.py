"""Media work in a short-lived child process (``python -m viggle_watch.media.…``): the service
never maps PyAV, and a child that crashes or hangs costs only its own try. Each child prints
one JSON document (``{"error": …}`` when it failed); a failure here is a ``DownloadError``, so
the job keeps its download and is tried again with backoff, as for a full disk."""

from __future__ import annotations

import json
import subprocess
from typing import Any, Final

from viggle_watch.apikey import child_env
from viggle_watch.children import child_command
from viggle_watch.errors import DownloadError

CHILD_TIMEOUT_S: Final = 300.0


def run_child(
    module: str, args: list[str], *, what: str, timeout_s: float = CHILD_TIMEOUT_S
) -> dict[str, Any]:
    """Run ``viggle_watch.media.MODULE``'s ``main(ARGS)`` in a child; its JSON answer.
    ``what`` names the work in the error ("the poster could not be made: …")."""
    command = child_command(f"viggle_watch.media.{module}", args)
    try:
        done = subprocess.run(  # noqa: S603 - our own module; paths are single argv items
            command, env=child_env(), capture_output=True, timeout=timeout_s, check=False
        )
        said: dict[str, Any] = json.loads(done.stdout or b"{}")
    except subprocess.TimeoutExpired:
        raise DownloadError(f"{what}: the child took over {timeout_s:.0f} s") from None
    except (OSError, ValueError) as exc:
        raise DownloadError(f"{what}: {exc}") from None
    if done.returncode != 0 or "error" in said:
        raise DownloadError(f"{what}: {said.get('error', f'exit status {done.returncode}')}")
    return said
