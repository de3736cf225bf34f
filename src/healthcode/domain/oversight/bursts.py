"""Bursts: an official or authority acting far more often in a day than its own recent days.

The baseline of a day is the mean count of the same actor over the ``baseline_days`` before
it (days without any act count as zero), floored so that a quiet actor's first busy day is
not a burst by itself. A day is a burst when its count reaches ``min_count`` and is at least
``factor`` times the baseline: growth of an outbreak doubles counts over days, a fabricated
list multiplies them in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BurstPolicy:
    min_count: int = 20
    factor: float = 4.0
    baseline_days: int = 7
    baseline_floor: float = 2.0


@dataclass(frozen=True)
class Burst:
    actor: str
    day: int  # days since the epoch, UTC
    count: int
    baseline: float

    @property
    def score(self) -> float:
        return self.count / self.baseline


def bursts(
    counts: Mapping[tuple[str, int], int], *, first_day: int, policy: BurstPolicy = BurstPolicy()
) -> list[Burst]:
    """``counts`` maps (actor, day) to how many acts; days from ``first_day`` on are judged
    (earlier days only serve as baseline)."""
    by_actor: dict[str, dict[int, int]] = {}
    for (actor, day), count in counts.items():
        by_actor.setdefault(actor, {})[day] = count
    found = []
    for actor, days in sorted(by_actor.items()):
        for day, count in sorted(days.items()):
            if day < first_day or count < policy.min_count:
                continue
            previous = [days.get(day - back, 0) for back in range(1, policy.baseline_days + 1)]
            baseline = max(sum(previous) / policy.baseline_days, policy.baseline_floor)
            if count >= policy.factor * baseline:
                found.append(Burst(actor, day, count, baseline))
    return found
