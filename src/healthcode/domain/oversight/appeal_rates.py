"""Authorities whose appeals lapse or are overturned far more often than other authorities'.

For each authority with at least ``min_appeals`` decided appeals in the window, the number
lapsed (and, separately, overturned) is compared with a binomial whose rate is that of all
other authorities together, floored at ``rate_floor`` (other authorities may have none). An
exact tail probability under ``alpha``, with at least ``min_count`` such appeals making up at
least ``min_rate`` of the authority's, is a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scipy.stats import binom


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
            p_value = float(binom.sf(count - 1, mine.decided, rate))
            if p_value < policy.alpha:
                found.append(RateAnomaly(authority, outcome, count, mine.decided, rate, p_value))
    return found
