"""Files in a watch folder that no rule on it takes (a .gif, a .txt, a .heic): never inputs,
but never silent either. The log says so once per file for the first ``SAMPLE`` of a folder,
and past that one line with the count (``intake.tick.UnusedLog``); ``status`` shows the
count. Kept compact: a folder of 50,000 notes costs the service a number, not 50,000 paths."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from viggle_watch.config import JobsRule, Rule
from viggle_watch.intake.decide import wanted
from viggle_watch.watch.scanner import Entry, scan_entries

SAMPLE: Final = 20
REASON: Final = "not an image or video that a rule on this folder takes"


@dataclass(frozen=True, slots=True)
class Unused:
    count: int
    sample: tuple[Path, ...]  # the first SAMPLE, in scan order


def candidates(rule: Rule) -> list[Entry]:
    """What in a rule's watch folder this kind of rule could turn into work."""
    return survey([rule])[0][0][1]


def survey(rules: Iterable[Rule]) -> tuple[list[tuple[Rule, list[Entry]]], dict[Path, Unused]]:
    """Each rule's candidates (one scan per rule, as the rescan always made), and per watch
    folder the files no rule on it takes (none in a jobs folder: its manifests name the files
    around them)."""
    rules = list(rules)
    peers: dict[Path, list[Rule]] = {}
    for rule in rules:
        peers.setdefault(rule.watch, []).append(rule)
    surveyed: list[tuple[Rule, list[Entry]]] = []
    unused: dict[Path, Unused] = {}
    for rule in rules:
        others = peers[rule.watch]
        counts = rule is others[0] and not any(isinstance(r, JobsRule) for r in others)
        entries, found = _scan(rule, others[1:] if counts else None)
        surveyed.append((rule, entries))
        if found is not None:
            unused[rule.watch] = found
    return surveyed, unused


def _scan(rule: Rule, peers: list[Rule] | None) -> tuple[list[Entry], Unused | None]:
    jobs = isinstance(rule, JobsRule)
    entries: list[Entry] = []
    count, sample = 0, list[Path]()
    for entry in scan_entries(rule.watch, recursive=rule.recursive and not jobs, dirs=jobs):
        path = entry.path
        if entry.is_dir or wanted(rule, path):
            entries.append(entry)
        elif peers is not None and not any(wanted(p, path) for p in peers):
            count += 1
            if len(sample) < SAMPLE:
                sample.append(path)
    return entries, None if peers is None else Unused(count, tuple(sample))
