"""Our own code in a short-lived child process: media work (PyAV) stays out of the service's
memory, and a decoder that crashes or hangs costs only its child.

The child runs with ``-P`` (no working directory on ``sys.path``) and imports the same package
this process did, adding its folder only when the usual path lacks it (a checkout run with
``PYTHONPATH``, or the tests of a second checkout): never another installed copy.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

HOME: Final = str(Path(__file__).resolve().parents[1])  # where this process found the package


def child_command(module: str, args: Sequence[str]) -> list[str]:
    """``python`` running ``module.main(args)`` (its exit status the child's)."""
    code = (
        "import sys\n"
        f"if {HOME!r} not in sys.path: sys.path.insert(0, {HOME!r})\n"
        f"from {module} import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return [sys.executable, "-P", "-c", code, *args]
