"""The acceptance gate's measuring child, kept while there is work (issue 16): one request per
line on stdin (``["VIDEO"]`` or ``["VIDEO", "MASK"]``), one JSON answer per line on stdout —
``media.inspect``'s figures. Starting Python and PyAV costs more than measuring a short render,
so a busy service keeps one child instead of starting one per job; the child exits once idle
for ``IDLE_S`` (or when the service closes its stdin, or dies), and the idle service holds no
PyAV. The parent is ``render.children.MediaWorker``.
"""

from __future__ import annotations

import json
import select
import sys
from pathlib import Path
from typing import Final

from viggle_watch.media.inspect import measure

IDLE_S: Final = 30.0


def answer(line: str) -> dict[str, object]:
    """The figures for one request, with the request itself (``for``): the parent checks the
    answer is to what it asked."""
    paths: object = None
    try:
        paths = json.loads(line)
        assert isinstance(paths, list)
        video = measure(Path(paths[0]))
        mask = measure(Path(paths[1])) if len(paths) > 1 else None
    except Exception as exc:  # one request's failure, in one line; the worker goes on
        return {"for": paths, "error": f"{type(exc).__name__}: {exc}"}
    return {"for": paths, "video": video, "mask": mask}


def main(argv: list[str]) -> int:
    idle_s = float(argv[0]) if argv else IDLE_S
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], idle_s)
        if not ready:
            return 0  # idle: the parent starts another when it needs one
        line = sys.stdin.readline()
        if not line:
            return 0  # the parent closed our stdin (or died)
        sys.stdout.write(json.dumps(answer(line)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
