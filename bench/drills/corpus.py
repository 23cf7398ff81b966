"""Drill 4, the bad-input corpus: every case must end clearly, cost nothing, delete nothing.

Run: python -m bench.drills.corpus [--keep DIR]   (from the repo root)

Generates (never commits) a corpus of broken, hostile and merely odd inputs in a temporary
workspace, runs them through the service against the in-process emulator, and prints one row
per case and the drill's figures:

- every invalid input ends with ``failed/NAME.error.json`` holding a ``code`` and a ``reason``
  a person can read, and every bad config with a ``ConfigError`` naming the file, the line and
  the field (``viggle-watch check-config`` exits 2 without a traceback);
- zero API calls while only invalid inputs were there (the emulator's ``calls``);
- the service still runs afterwards: a valid file dropped after the corpus renders;
- no input is deleted: every file (by inode) is still somewhere under its watch folder, except
  the ones the drill itself removed mid-settle.

Valid inputs with odd names (unicode, emoji, a leading dash, a newline, ~250 bytes) must render
under a safe output name. The service's ticks are stepped by hand with a fake clock (no
scheduler, no observer), so the whole drill takes a few seconds. The corpus and its run are
``tests/support/drills/corpus_cases.py`` and ``corpus.py``; ``tests/integration/
test_bad_inputs.py`` runs the same corpus and asserts each case; this prints the figures.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python bench/drills/corpus.py`

from tests.support.drills.corpus import SKIPPED, Report, run_corpus
from tests.support.drills.corpus_cases import VANISHED, prepare, write_config
from tests.support.stepping import Stepper
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.logs import configure_logging

DRILL_KEY: Final = "sk-drill-corpus-0123456789"


# -- printing ----------------------------------------------------------------------------


def _short(text: str, width: int) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(report: Report) -> str:
    lines = [f"{'case':32} {'expected':16} {'outcome':16} ok  detail"]
    for o in report.outcomes:
        mark = "yes" if o.as_expected else ("BUG" if o.case.bug else "NO ")
        lines.append(
            f"{_short(o.case.id, 32):32} {o.case.expect:16} {_short(o.result, 16):16} {mark} "
            f"{_short(o.detail, 70)}"
        )
    return "\n".join(lines)


def figures(report: Report) -> dict[str, object]:
    outcomes = [o for o in report.outcomes if o.result != SKIPPED]
    invalid = [o for o in outcomes if not o.case.valid and not o.case.is_config]
    errors = [o for o in invalid if o.case.expect != VANISHED]
    return {
        "cases": len(report.outcomes),
        "cases run": len(outcomes),
        "ended as expected": sum(o.as_expected for o in outcomes),
        "clear error sidecars": f"{sum(o.clear for o in errors)} of {len(errors)}",
        "clear config errors": (
            f"{sum(o.clear for o in outcomes if o.case.is_config)} of "
            f"{sum(o.case.is_config for o in outcomes)}"
        ),
        "rendered under a safe name": (
            f"{sum(o.clear for o in outcomes if o.case.valid)} of "
            f"{sum(o.case.valid for o in outcomes)}"
        ),
        "zero API calls for invalid inputs": "yes" if not report.calls_after_invalid else "no",
        "renders paid": report.submissions,
        "renders of anything but valid inputs": report.foreign_submissions,
        "service still running (a file dropped after the corpus renders)": (
            "yes" if report.sentinel_rendered else "no"
        ),
        "ticks that raised": len(report.tick_errors),
        "inputs": report.inputs,
        "inputs deleted": len(report.inputs_deleted),
        "seconds": round(report.seconds, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args(argv)
    configure_logging("json", stream=io.StringIO())  # the service's own lines are not the figures
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        root = base / "ws"
        prepare(root)
        with serve(EmulatorConfig(latency_s=0.2)) as emu:
            stepper = Stepper.of(write_config(root, emu.url), DRILL_KEY)
            try:
                report = run_corpus(root, stepper, emu.emulator.stats)
            finally:
                stepper.service.db.close()
    print(table(report))
    print()
    for name, value in figures(report).items():
        print(f"{name}: {value}")
    for error in report.tick_errors:
        print(f"  tick raised: {error}")
    for bug in sorted({o.case.bug for o in report.outcomes if o.case.bug and not o.as_expected}):
        print(f"known bug: {bug}")
    clean = all(o.as_expected for o in report.outcomes) and not report.inputs_deleted
    return 0 if clean and not report.calls_after_invalid and report.sentinel_rendered else 1


if __name__ == "__main__":
    sys.exit(main())
