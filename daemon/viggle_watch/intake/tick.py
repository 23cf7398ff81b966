"""The settle tick: settled files and job folders → rules → checked, hashed, deduplicated jobs.

A file that cannot be sent (it does not decode, is over the API's limits, a manifest that
points outside its folder) never costs an API call: it is filed in ``failed/`` with
``NAME.error.json`` saying why, in words a person understands.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Final

import structlog

from viggle_watch.config import PairsRule, Rule
from viggle_watch.config.kinds import missing_assets
from viggle_watch.errors import StoreError
from viggle_watch.intake.arrival import Arrivals
from viggle_watch.intake.checks import Problem, error_document
from viggle_watch.intake.decide import Ignore, Refuse, Wait, skip_for_collision, wanted
from viggle_watch.intake.facts import Facts
from viggle_watch.intake.freed import freed_units
from viggle_watch.intake.second_look import grown_in_failed, take_back
from viggle_watch.intake.spec import SpecBuilder, claim_key, is_light, sha256_file
from viggle_watch.intake.unused import REASON, Unused, survey
from viggle_watch.outputs.failure import FILED, PROCESSED
from viggle_watch.outputs.filing import error_name, move_input, reject_input
from viggle_watch.outputs.finished import file_away
from viggle_watch.rules.pairing import RenderRequest, orphans, rule_for
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.remembered import Remembered
from viggle_watch.store.spec import dedup_key
from viggle_watch.watch.filters import is_ignored
from viggle_watch.watch.stability import SettleTracker, StableFile

log = structlog.get_logger()
BATCH: Final = 64  # small settled images handled per store commit
# (path, size, mtime_ns, now) → True when this host may handle the settled input (shared store)
InputClaim = Callable[[Path, int, int, float], bool]
# (rule, NAME.error.json or None with `inputs: leave`, the error document) → the rule's hooks
OnRejected = Callable[[Rule, Path | None, dict[str, object]], None]


class Intake:
    """Turns what settles in the watch folders into jobs; pairs wait here for their partner."""

    def __init__(
        self,
        store: JobStore,
        rules: Iterable[Rule],
        tracker: SettleTracker,
        *,
        claim: InputClaim | None = None,
        incomplete_grace_s: float = 0.0,
        remembered: Remembered | None = None,
        on_rejected: OnRejected | None = None,
    ) -> None:
        self._store = store
        self._claim = claim
        self._on_rejected = on_rejected
        self._rules = tuple(rules)
        self._tracker = tracker
        self._specs = SpecBuilder(remembered)
        self._waiting: dict[str, dict[str, Path]] = defaultdict(dict)  # rule → stem → file
        self._since: dict[Path, float] = {}
        self._facts = Facts(remembered)
        self._links: set[Path] = set()
        self._unused = UnusedLog()  # files no rule takes: said once each
        self._arrivals = Arrivals(incomplete_grace_s)
        self._for_asset: dict[str, set[Path]] = {}  # rule → inputs waiting for its own file

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """A reloaded config: new rules apply to what settles from now on."""
        self._rules = tuple(rules)

    def look_again(self, claimed: Iterable[str], now: float) -> int:
        """Inputs a dead host had claimed (their claims let go): settle them again now, not
        at the next rescan (issue 19 §5). Returns how many units are settling again."""
        units = freed_units(claimed, self._rules, _names_in)
        for unit in units:  # each was forgotten when its claim was refused here
            self._tracker.touch(unit, now)
        return len(units)

    def waiting(self) -> bool:
        """Something waits on the clock, not on a file event: a pairs file for its partner, an
        input for its rule's own file to be back, or a file that looked cut off for its grace to
        end (judged once more then)."""
        waits = any(self._waiting.values()) or any(self._for_asset.values())
        return waits or self._arrivals.waiting()

    def waiting_partners(self) -> dict[str, list[str]]:
        return {
            rule: sorted(str(p) for p in files.values())
            for rule, files in self._waiting.items()
            if files
        }

    def rescan(self, now: float) -> int:
        """Feed every candidate in every watch folder to the tracker (startup and periodic).

        Files no rule could use are not tracked at all, and a file already handed on with
        the same size and mtime is skipped without another stat.
        """
        found = 0
        surveyed, unused = survey(self._rules)
        for rule, entries in surveyed:
            self._refuse_links(rule, now)
            for grown, error in grown_in_failed(rule, now):  # its copy went on: judge again
                back = take_back(grown, error)
                if back is not None:
                    log.info("input_judged_again", path=str(back), was=str(grown))
                    self._tracker.touch(back, now)
            for entry in entries:
                self._tracker.touch_scanned(entry.path, (entry.size, entry.mtime_ns), now)
                found += 1
        self._unused.note(unused)
        return found

    def _refuse_links(self, rule: Rule, now: float) -> None:
        """A symlink in a watch folder is never followed: say so once, in failed/."""
        try:
            links = [Path(e.path) for e in os.scandir(rule.watch) if e.is_symlink()]
        except OSError:
            return
        for link in links:
            self._refuse_link(rule, link, now)

    def _refuse_link(self, rule: Rule, link: Path, now: float) -> None:
        if link in self._links or is_ignored(link.name) or not wanted(rule, link):
            return
        self._links.add(link)
        problem = Problem(
            "symlink",
            f"{link.name} is a symbolic link; viggle-watch never "
            "follows links (copy the file in instead).",
            {},
        )
        self._reject(rule, link, problem, now)

    def tick(self, now: float) -> int:
        """Enqueue the jobs for everything that has settled; return how many were new."""
        new, ready, done = 0, self._tracker.stable(now), 0
        rules = self._rules  # one snapshot for the whole tick: a reload swaps the list whole
        try:
            while done < len(ready):
                chunk = self._chunk(ready, done)
                if len(chunk) > 1:
                    with self._store.batch():  # one commit for many small jobs (a bulk drop)
                        new += self._handle(rules, chunk, now)
                else:
                    new += self._handle(rules, chunk, now)
                done += len(chunk)
        except StoreError as exc:  # nothing of this chunk was kept: look at it all again later
            for stable in ready[done:]:
                self._tracker.forget(stable.path)
            log.error("intake_store_failed", reason=str(exc), files=len(ready) - done)
        self._expire_orphans(rules, now)
        for path in self._arrivals.due(now):  # its grace is over: settle it once more
            self._tracker.touch(path, now)
        named = {rule.name: rule for rule in rules}
        self._forget_removed(named)
        self._assets_back(named, now)
        return new

    def _forget_removed(self, named: Mapping[str, Rule]) -> None:
        """A rule reloaded away has nothing to wait for: neither for its own file nor, a pairs
        rule, for a partner (else the settle loop would keep ticking for it)."""
        for name in [n for n in self._for_asset if n not in named]:
            del self._for_asset[name]
        for name in [n for n in self._waiting if n not in named]:
            for path in self._waiting.pop(name).values():
                self._since.pop(path, None)

    def _assets_back(self, named: Mapping[str, Rule], now: float) -> None:
        """A rule's own file is back (a share mounted again): its waiting inputs settle again
        now, not at the next rescan."""
        for name, held in self._for_asset.items():
            if held and not missing_assets(named[name]):
                log.info("rule_asset_back", rule=name, inputs=len(held))
                for path in sorted(held):
                    self._tracker.touch(path, now)
                held.clear()

    def _chunk(self, ready: list[StableFile], start: int) -> list[StableFile]:
        """Small images are checked and queued in one store transaction (SQLite only: on a
        shared store other hosts must not wait on it); anything slower goes alone."""
        if not self._store.batchable:
            return ready[start : start + 1]
        end = start
        while end < len(ready) and end - start < BATCH and is_light(ready[end]):
            end += 1
        return ready[start : max(end, start + 1)]

    def _handle(self, rules: tuple[Rule, ...], ready: list[StableFile], now: float) -> int:
        new = 0
        for stable in ready:
            rule = rule_for(rules, stable.path, skip=FILED)
            if rule is None:
                continue
            if stable.path.is_symlink():
                self._refuse_link(rule, stable.path, now)
                continue
            if self._store.seen(rule.name, str(stable.path), stable.size, stable.mtime_ns):
                continue  # handled and left in place, or taken as seen by `store reset`
            if self._claim is not None and not self._claim(*claim_key(rule, stable), now):
                # another host handles it; look again at the next rescan (it may die)
                self._tracker.forget(stable.path)
                log.debug("input_claimed_elsewhere", path=str(stable.path))
                continue
            log.info("file_settled", path=str(stable.path), rule=rule.name, size=stable.size)
            try:
                new += self._settled(rule, stable.path, now)
            except StoreError:
                raise  # the store's trouble, not the file's: never filed as failed
            except Exception as exc:  # one odd file must not stop the others in this tick
                log.exception("input_failed_unexpectedly", path=str(stable.path))
                problem = Problem(
                    "internal_error",
                    "viggle-watch could not handle this file "
                    f"({type(exc).__name__}); see the service log.",
                    {},
                )
                self._reject(rule, stable.path, problem, now)
        return new

    def _settled(self, rule: Rule, path: Path, now: float) -> int:
        decision = self._facts.decide(rule, path, self._waiting[rule.name])
        if isinstance(decision, Refuse):
            if not self._still_arriving(path, decision.problem, now):
                self._reject(rule, path, decision.problem, now)
            return 0
        self._arrivals.judged(path)
        if isinstance(decision, Wait):
            self._waiting[rule.name][decision.stem] = path
            self._since[path] = now
            log.info("partner_awaited", rule=rule.name, path=str(path))
            return 0
        if isinstance(decision, Ignore):
            return 0
        if isinstance(rule, PairsRule):  # its partner leaves the waiting room with it
            self._since.pop(self._waiting[rule.name].pop(path.stem), None)
        return self._enqueue_all(rule, path, list(decision.requests), now)

    def _still_arriving(self, path: Path, problem: Problem, now: float) -> bool:
        """A file that looks cut off waits its grace (judged again if it changes)."""
        try:
            st = path.stat()
        except OSError:
            return False
        new = path not in self._arrivals
        if not self._arrivals.holds(path, problem, (st.st_size, st.st_mtime_ns), now):
            return False
        self._tracker.forget(path)  # not handed on: its next event or look settles it again
        if new:
            log.info("input_incomplete", path=str(path), reason=problem.reason)
        return True

    def _expire_orphans(self, rules: tuple[Rule, ...], now: float) -> None:
        for rule in rules:
            if not isinstance(rule, PairsRule):
                continue
            waiting = self._waiting[rule.name]
            since = {p: self._since.get(p, now) for p in waiting.values()}
            for path in orphans(since, now, rule.pair_timeout):
                waiting.pop(path.stem, None)
                self._since.pop(path, None)
                reason = (
                    f"No partner with the same name arrived within "
                    f"{rule.pair_timeout:g} s (an image needs a video, and a video an image)."
                )
                self._reject(rule, path, Problem("orphan", reason, {}), now)

    def _reject(self, rule: Rule, path: Path, problem: Problem, now: float) -> None:
        document = error_document(path, problem, rule=rule.name, at=now)
        try:
            moved = reject_input(path, document, policy=rule.inputs)
        except OSError as exc:
            log.warning("input_not_moved", path=str(path), reason=exc.strerror)
            return
        self._tracker.forget(path)
        self._remember(rule, path, now)
        if self._on_rejected is not None:  # the rule's on_failed hook, as for a failed job
            error = moved.with_name(error_name(moved.name)) if moved is not None else None
            self._on_rejected(rule, error, document)
        log.warning(
            "input_rejected",
            rule=rule.name,
            path=str(path),
            code=problem.code,
            reason=problem.reason,
            to=str(moved) if moved else None,
        )

    def _remember(self, rule: Rule, path: Path, now: float) -> None:
        if rule.inputs == "leave" and path.is_file():
            st = path.stat()
            self._store.remember_seen(
                rule.name, str(path), st.st_size, st.st_mtime_ns, sha256_file(path), now
            )

    def _enqueue_all(
        self, rule: Rule, path: Path, requests: list[RenderRequest], now: float
    ) -> int:
        missing = missing_assets(rule)
        if missing:  # the rule's own file is gone (an unmounted share?): the input waits
            log.warning(
                "rule_asset_missing",
                rule=rule.name,
                path=str(missing[0]),
                waiting=str(path),
                hint="the input stays where it is and is taken once the file is back",
            )
            self._tracker.forget(path)  # settled again once the file is back
            self._for_asset.setdefault(rule.name, set()).add(path)
            return 0
        outcomes = [self._enqueue(r, now) for r in requests]
        self._remember(rule, path, now)
        if "error" in outcomes or "made" in outcomes or rule.inputs == "leave":
            return outcomes.count("made")  # an error leaves the input where it is
        # every render it asks for exists already: file it with those jobs' outcome
        for source in sorted({s for r in requests for s in r.sources}):
            if self._store.source_states(str(source)):
                file_away(self._store, [source], rule, now, self._tracker.forget)
            else:
                moved = move_input(source, PROCESSED)
                self._tracker.forget(source)
                log.info("input_duplicate", path=str(source), to=str(moved))
        return 0

    def _enqueue(self, request: RenderRequest, now: float) -> str:
        """``made``, ``duplicate``, ``skipped`` or ``error`` (logged; the input stays put)."""
        rule = request.rule
        try:
            video_s = self._facts.scene_seconds(request)
            spec = self._specs.build(request, now=now, video_s=video_s)
        except (OSError, ValueError) as exc:
            log.error(
                "input_unreadable", rule=rule.name, path=str(request.character), reason=str(exc)
            )
            return "error"
        if skip_for_collision(rule, (rule.output / f"{spec.output_name}.mp4").exists()):
            log.info("output_exists_skipped", rule=rule.name, output=spec.output_name)
            return "skipped"
        sources = tuple(str(s) for s in request.sources)
        job_id = self._store.enqueue(
            spec,
            dedup_key=dedup_key(spec),
            source_path=sources[0],
            sources=sources,
            priority=rule.priority,
            at=now,
            note=self._facts.scene_note(request),
        )
        bound = log.bind(rule=spec.rule, path=spec.character.path, scene=spec.scene_key)
        if job_id is None:
            bound.info("job_deduplicated")
            return "duplicate"
        bound.info("job_queued", job_id=job_id, model=spec.model, mode=spec.mode)
        return "made"


def _names_in(folder: Path) -> list[str]:
    try:
        return [p.name for p in folder.iterdir()]
    except OSError:  # gone (an unmounted share): nothing there to look at
        return []


class UnusedLog:
    """What was said already, so that each rescan says only what is new."""

    def __init__(self) -> None:
        self._said: dict[Path, Unused] = {}

    def note(self, unused: dict[Path, Unused]) -> None:
        for folder, now in unused.items():
            before = self._said.get(folder, Unused(0, ()))
            for path in now.sample:
                if path not in before.sample:
                    log.info("file_ignored", path=str(path), reason=REASON)
            if now.count > len(now.sample) and now.count != before.count:
                log.info("files_ignored", folder=str(folder), count=now.count, reason=REASON)
            self._said[folder] = now
