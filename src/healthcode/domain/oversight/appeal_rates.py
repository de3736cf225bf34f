"""Authorities whose appeals lapse or are overturned far more often than other authorities'.

For each authority with at least ``min_appeals`` decided appeals in the window, with at least
``min_count`` lapsed (or overturned) making up at least ``min_rate`` of them:

- lapses are compared with a binomial whose rate is that of all other authorities together,
  floored at ``rate_floor``: an authority is bound to answer, so the expected rate is about
  zero, and the others' (often none) is a norm rather than a sample;
- overturns are compared with the other authorities' by Fisher's exact test (one-sided): some
  overturns are normal, and both rates are samples of similar size.

An exact tail probability under ``alpha`` is a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scipy.stats import binom, fisher_exact


@dataclass(frozen=True)
class AppealRatePolicy:
    min_appeals: int = 8
    min_count: int = 5
    min_rate: float = 0.1
    rate_floor: float = 0.02
    alpha: float = 1e-4


@dataclass(frozen=True)
class AuthorityOutcomes:
    decided: int  # appeals no longer open
    lapsed: int
    overturned: int


@dataclass(frozen=True)
class RateAnomaly:
    authority_id: str
    outcome: str  # lapsed | overturned
    count: int
    decided: int
    expected_rate: float
    p_value: float


def rate_anomalies(
    outcomes: Mapping[str, AuthorityOutcomes], policy: AppealRatePolicy = AppealRatePolicy()
) -> list[RateAnomaly]:
    found = []
    for outcome in ("lapsed", "overturned"):
        total = sum(getattr(o, outcome) for o in outcomes.values())
        decided = sum(o.decided for o in outcomes.values())
        for authority, mine in sorted(outcomes.items()):
            count = getattr(mine, outcome)
            if (
                mine.decided < policy.min_appeals
                or count < policy.min_count
                or count < policy.min_rate * mine.decided
            ):
                continue
            others = decided - mine.decided
            rate = max((total - count) / others if others else 0.0, policy.rate_floor)
            if outcome == "lapsed":
                p_value = float(binom.sf(count - 1, mine.decided, rate))
            else:
                table = [[count, mine.decided - count], [total - count, others - (total - count)]]
                p_value = float(fisher_exact(table, alternative="greater").pvalue)
            if p_value < policy.alpha:
                found.append(RateAnomaly(authority, outcome, count, mine.decided, rate, p_value))
    return found
