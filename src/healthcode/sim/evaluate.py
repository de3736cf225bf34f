"""``healthcode sim evaluate``: build a city with abuse attempts, run every detector, and score
the findings against the ground truth.

An attempt *landed* when at least one of its actions was accepted; it is *flagged* when a
true finding names at least one record it left. An attempt refused whole leaves only the
refusals of its acts, naming the official; it is *flagged* too when a true finding names one of
them (`refused_acts`), counted apart (``refused_flagged``): recall is over landed attempts.
A finding is *true* when at least half of the records it names belong to injected attempts (a
burst names every order of the official's day, honest ones included). Recall = flagged landed attempts / landed attempts; precision = true
findings / findings.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from healthcode import bootstrap
from healthcode.oversight.runner import run_detectors
from healthcode.services.clock import FixedClock
from healthcode.settings import Settings
from healthcode.sim.abuse import KINDS, Attempt, plan
from healthcode.sim.actions import Applied, Replayer, write_action
from healthcode.sim.world import World, register, simulate

# The simulated month ends here (the Henan depositors' codes turned red in June 2022).
NOW = datetime(2022, 6, 30, tzinfo=UTC)


@dataclass
class KindScore:
    kind: str
    abuse: str
    attempts: int = 0
    refused: int = 0
    landed: int = 0
    flagged: int = 0
    refused_flagged: int = 0  # refused whole, and a finding names its refusals


@dataclass
class Evaluation:
    seed: int
    people: int
    days: int
    kinds: dict[str, KindScore]
    findings: int
    true_findings: int
    by_detector: dict[str, list[int]] = field(default_factory=dict)  # name -> [findings, true]
    missed: list[str] = field(default_factory=list)  # attempts landed and not flagged
    false: list[str] = field(default_factory=list)  # summaries of findings not about an attempt

    @property
    def landed(self) -> int:
        return sum(k.landed for k in self.kinds.values())

    @property
    def recall(self) -> float:
        flagged = sum(k.flagged for k in self.kinds.values())
        return flagged / self.landed if self.landed else 1.0

    @property
    def precision(self) -> float:
        return self.true_findings / self.findings if self.findings else 1.0

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "people": self.people, "days": self.days,
            "recall": self.recall, "precision": self.precision, "findings": self.findings,
            "true_findings": self.true_findings, "kinds": [asdict(k) for k in self.kinds.values()],
            "by_detector": self.by_detector, "missed": self.missed, "false_findings": self.false,
        }  # fmt: skip


def _ignore(action: dict[str, Any]) -> None:
    return None


def build(
    services: bootstrap.Services, *, seed: int, people: int, days: int,
    keep: Callable[[dict[str, Any]], None] = _ignore,
) -> tuple[World, list[Attempt], dict[str, Applied]]:  # fmt: skip
    """Register, then simulate the honest city with the attempts, each action replayed through
    the services as it comes (and handed to ``keep``)."""
    rng = random.Random(seed)
    world = register(services, people=people, seed=seed, days=days, now=NOW)
    attempts, planner = plan(world, rng)
    replayer = Replayer(services)
    applied: dict[str, Applied] = {}

    def apply(action: dict[str, Any]) -> None:
        keep(action)
        applied[action["id"]] = replayer.apply(action)

    simulate(world, rng, apply, planner)
    return world, attempts, applied


def score(
    seed: int, people: int, days: int, attempts: list[Attempt], applied: dict[str, Applied],
    runs: list[Any],
) -> Evaluation:  # fmt: skip
    kinds = {kind: KindScore(kind, abuse) for kind, abuse in KINDS.items()}
    owner: dict[str, str] = {}
    left: dict[str, set[str]] = {}
    for attempt in attempts:
        # (an action due after the simulated month's end never happened: it is not in applied)
        outcomes = [applied[i] for i in attempt.actions if i in applied]
        left[attempt.id] = {ref for o in outcomes if o.landed for ref in o.refs}
        for ref in (ref for o in outcomes for ref in o.refs):  # its refusals too
            owner[ref] = attempt.id
    evaluation = Evaluation(seed, people, days, kinds, findings=0, true_findings=0)
    flagged: set[str] = set()
    for run in runs:
        counts = evaluation.by_detector.setdefault(run.detector.name, [0, 0])
        for finding in run.findings:
            mine = [owner[r] for r in finding.records if r in owner]
            evaluation.findings += 1
            counts[0] += 1
            if 2 * len(mine) >= len(finding.records):
                evaluation.true_findings += 1
                counts[1] += 1
                flagged.update(mine)
            else:
                evaluation.false.append(f"{run.detector.name}: {finding.summary_en}")
    for attempt in attempts:
        if not attempt.actions:  # not made (a city too small for it)
            continue
        kind = kinds[attempt.kind]
        kind.attempts += 1
        if not left[attempt.id]:
            kind.refused += 1
            kind.refused_flagged += attempt.id in flagged
            continue
        kind.landed += 1
        if attempt.id in flagged:
            kind.flagged += 1
        else:
            evaluation.missed.append(attempt.id)
    return evaluation


def evaluate(
    seed: int, *, people: int = 3000, days: int = 30, keep: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Evaluation:  # fmt: skip
    """Evaluate one seed in a fresh SQLite store (in ``keep``, with the actions and labels
    written beside it, or in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="healthcode-sim-") as scratch:
        data_dir = keep or Path(scratch)
        settings = Settings.from_env({"HEALTHCODE_DATA_DIR": str(data_dir)})
        services = bootstrap.build(settings, clock=FixedClock(NOW))
        progress(f"seed {seed}: simulating {people} people over {days} days")
        with ExitStack() as files:
            kept = _ignore
            if keep is not None:
                out = files.enter_context((keep / "actions.ndjson").open("w", encoding="utf-8"))
                kept = partial(write_action, out)
            _, attempts, applied = build(services, seed=seed, people=people, days=days, keep=kept)
        if keep is not None:
            write_labels(keep / "labels.ndjson", attempts)
        progress(f"seed {seed}: running the detectors")
        with services.db.read() as conn:
            runs = run_detectors(conn, now=NOW)
        services.db.dispose()
    return score(seed, people, days, attempts, applied, runs)


def write_labels(path: Path, attempts: list[Attempt]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for attempt in attempts:
            out.write(json.dumps({"attempt": attempt.id, "kind": attempt.kind,
                                  "abuse": attempt.abuse, "city": attempt.city,
                                  "actions": attempt.actions}) + "\n")  # fmt: skip
