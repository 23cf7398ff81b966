"""What to settle again when a dead host's input claims are let go (issue 19 §5): each claim's
key is the unit it claimed (a file, a job folder), or for a pair ``STEM.pair``, which names
both partners: every file of that stem in its folder that the rule could use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from viggle_watch.config import PairsRule, Rule
from viggle_watch.intake.decide import wanted
from viggle_watch.outputs.failure import FILED
from viggle_watch.rules.pairing import rule_for
from viggle_watch.watch.filters import is_ignored

PAIR_SUFFIX = ".pair"  # intake.spec.claim_key's name for a pair's two files


def freed_units(
    keys: Iterable[str], rules: Sequence[Rule], list_dir: Callable[[Path], list[str]]
) -> list[Path]:
    """The paths to hand the settle tracker again for the released claim ``keys``;
    ``list_dir(folder)``: the names in a folder (for a pair's partners)."""
    out: list[Path] = []
    for key in keys:
        path = Path(key)
        rule = rule_for(rules, path, skip=FILED)
        if rule is None:
            continue  # no rule watches there any more
        if not (isinstance(rule, PairsRule) and path.suffix == PAIR_SUFFIX):
            out.append(path)  # the unit it claimed, as the tracker handed it on
            continue
        for name in list_dir(path.parent):
            partner = path.parent / name
            if partner.stem == path.stem and not is_ignored(name) and wanted(rule, partner):
                out.append(partner)
    return sorted(set(out))
