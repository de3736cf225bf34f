"""The cohort test: is a listed group of people (a bank's depositors, a petition's signers)
flagged -- red or yellow -- more often than people like them who are not on the list? (A1, A8)

People are compared only with people in the same *stratum* (in the service: the same home area
and the same class of exposure in the evidence), because a stratum's own evidence explains its
colours: a cohort that lives where an outbreak is, or that was traced as close contacts, is
flagged more and rightly so. Inside a stratum the people not on the list are the controls. A
stratum without controls, or without any cohort member, says nothing and is left out; the
cohort members in strata without controls are counted as unmatched.

Under the null hypothesis (the list has nothing to do with being flagged) and given each
stratum's margins (its size, its number flagged, its number of cohort members), the number of
flagged cohort members in a stratum is hypergeometric, and the total ``T`` over the strata is a
sum of independent hypergeometric variables. Its exact distribution is the convolution of the
per-stratum distributions (this is the exact conditional test behind Fisher's, extended to many
strata; with one stratum it *is* Fisher's exact test). The one-sided p-value is ``P(T >= t)``;
the two-sided one sums every outcome no more likely than the observed one.

The effect is given as rates -- the cohort's, and the controls' reweighted to the cohort's
stratum mix, so both describe the same mix of areas and exposures -- their difference, and the
Mantel-Haenszel common odds ratio. Everything here is pure: counts in, figures out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import hypergeom

# Below this many matched cohort members the test is refused: the smallest p-values such a
# cohort can reach are not small, and a result on a handful of people is close to a statement
# about each of them.
MIN_MATCHED = 10
# Two outcomes whose probabilities differ by less than this (relative) are taken as equally
# likely in the two-sided p-value, so rounding does not split a tie (R's fisher.test uses the
# same 1e-7).
TIE_TOLERANCE = 1e-7

# Probabilities below this are dropped from the ends of the distributions: it keeps the
# convolutions as wide as the mass that a float can still tell apart, not as wide as the
# support (a 100,000-person cohort would otherwise convolve 100,000-long arrays). What is
# dropped is at most a few times 1e-300 per stratum, so a p-value above 1e-250 keeps its full
# precision; one below about 1e-300 is reported as 0.0.
NEGLIGIBLE = 1e-300

Pmf = NDArray[np.float64]


class CohortTooSmall(ValueError):
    """Too few cohort members have controls in their stratum for the test to say anything."""

    def __init__(self, matched: int, minimum: int) -> None:
        super().__init__(f"{matched} cohort members matched to controls; at least {minimum}")
        self.matched = matched
        self.minimum = minimum


@dataclass(frozen=True)
class Person:
    """One person as the test sees them; the key of their stratum is opaque here."""

    stratum: str
    flagged: bool
    in_cohort: bool


@dataclass(frozen=True)
class Stratum:
    key: str
    cohort: int
    cohort_flagged: int
    controls: int
    controls_flagged: int

    def __post_init__(self) -> None:
        if not (
            0 <= self.cohort_flagged <= self.cohort and 0 <= self.controls_flagged <= self.controls
        ):
            raise ValueError(f"inconsistent counts in stratum {self.key!r}")

    @property
    def matched(self) -> bool:
        return self.cohort > 0 and self.controls > 0


@dataclass(frozen=True)
class CohortComparison:
    matched: int  # cohort members in strata with controls: the test is about them
    unmatched: int  # cohort members in strata without controls, left out
    controls: int  # non-cohort people in the matched strata
    strata: int  # matched strata
    unmatched_strata: int  # strata with cohort members and no controls
    flagged: int  # T: flagged cohort members (matched)
    expected_flagged: float  # E[T] under the null
    cohort_rate: float
    control_rate: float  # the controls' rate per stratum, weighted by the cohort's mix
    risk_difference: float  # cohort_rate - control_rate
    odds_ratio: float | None  # Mantel-Haenszel; math.inf when no control odds; None if 0/0
    p_greater: float  # exact P(T >= flagged): flagged more often than the controls
    p_two_sided: float  # exact: every outcome no more likely than the observed one


def strata_of(people: Iterable[Person]) -> list[Stratum]:
    """Count people into strata (a convenience for small inputs and tests: the service counts
    in SQL and builds ``Stratum`` values directly)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for person in people:
        row = counts[person.stratum]
        base = 0 if person.in_cohort else 2
        row[base] += 1
        row[base + 1] += int(person.flagged)
    return [Stratum(key, *row) for key, row in sorted(counts.items())]


def stratum_pmf(stratum: Stratum) -> tuple[int, Pmf]:
    """The null distribution of a stratum's flagged cohort members, as (lowest value, pmf).

    scipy gives the probability at the mode; the rest follows by the ratio of neighbouring
    hypergeometric terms, as running products (one scipy call per value costs about 50 us, so
    a large stratum would take seconds). Each step adds a few rounding errors of 1e-16, so
    even 100,000 terms stay within about 1e-10 (relative) of the direct values.
    """
    m = stratum.cohort + stratum.controls
    k = stratum.cohort_flagged + stratum.controls_flagged
    n = stratum.cohort
    low, high = max(0, n - (m - k)), min(k, n)
    mode = min(max((n + 1) * (k + 1) // (m + 2), low), high)
    at_mode = float(hypergeom.pmf(mode, m, k, n))
    up = np.arange(mode, high, dtype=np.float64)  # P(x + 1) / P(x) for x = mode .. high - 1
    ups = (k - up) * (n - up) / ((up + 1) * (m - k - n + up + 1))
    down = np.arange(mode, low, -1, dtype=np.float64)  # P(x - 1) / P(x), x = mode .. low + 1
    downs = down * (m - k - n + down) / ((k - down + 1) * (n - down + 1))
    pmf: Pmf = np.concatenate(
        (at_mode * np.cumprod(downs)[::-1], [at_mode], at_mode * np.cumprod(ups))
    )
    return _trimmed(low, pmf)


def _trimmed(offset: int, pmf: Pmf) -> tuple[int, Pmf]:
    """Drop the ends below ``NEGLIGIBLE``, so convolutions stay as short as the mass is (the
    pmfs are log-concave, so only the ends are that small)."""
    nonzero = np.flatnonzero(pmf > NEGLIGIBLE)
    if nonzero.size == 0:  # cannot happen for a proper pmf; keep a point mass to stay total
        return offset, np.ones(1)
    first, last = int(nonzero[0]), int(nonzero[-1])
    return offset + first, pmf[first : last + 1]


def null_distribution(strata: Sequence[Stratum]) -> tuple[int, Pmf]:
    """The exact distribution of T over the matched strata, as (lowest value, pmf).

    The per-stratum pmfs are convolved pairwise, smallest first, so the long convolutions come
    last and few. ``numpy.convolve`` sums products directly (no FFT): every term is positive,
    so tail probabilities keep their relative precision down to the float's range, where an
    FFT's absolute error would swamp them.
    """
    offset = 0
    parts: list[Pmf] = []
    for stratum in strata:
        low, pmf = stratum_pmf(stratum)
        offset += low
        if pmf.size > 1:  # a point mass only shifts T
            parts.append(pmf)
    if not parts:
        return offset, np.ones(1)
    parts.sort(key=len)
    while len(parts) > 1:
        paired = []
        for i in range(0, len(parts) - 1, 2):
            shift, pmf = _trimmed(0, np.convolve(parts[i], parts[i + 1]))
            offset += shift
            paired.append(pmf)
        if len(parts) % 2:
            paired.append(parts[-1])
        parts = sorted(paired, key=len)
    return offset, parts[0]


def p_values(offset: int, pmf: Pmf, observed: int) -> tuple[float, float]:
    """(P(T >= observed), two-sided p) from the distribution (offset, pmf)."""
    at = observed - offset
    if at <= 0:
        greater = 1.0
    elif at >= pmf.size:
        greater = 0.0  # beyond the mass that is kept: below about 1e-300
    else:
        greater = float(np.sum(pmf[at:][::-1]))  # smallest terms first
    p_observed = float(pmf[at]) if 0 <= at < pmf.size else 0.0
    two_sided = float(np.sum(pmf[pmf <= p_observed * (1 + TIE_TOLERANCE)]))
    return min(1.0, greater), min(1.0, two_sided)


def mantel_haenszel(strata: Sequence[Stratum]) -> float | None:
    """The Mantel-Haenszel common odds ratio of being flagged, cohort against controls.

    ``math.inf`` when the numerator is positive and the denominator zero (no flagged controls
    beside unflagged cohort members anywhere); None when both are zero (nothing to compare).
    """
    numerator = denominator = 0.0
    for s in strata:
        total = s.cohort + s.controls
        numerator += s.cohort_flagged * (s.controls - s.controls_flagged) / total
        denominator += (s.cohort - s.cohort_flagged) * s.controls_flagged / total
    if denominator == 0:
        return math.inf if numerator > 0 else None
    return numerator / denominator


def compare(strata: Iterable[Stratum], *, min_matched: int = MIN_MATCHED) -> CohortComparison:
    """The exact stratified test of the cohort against its matched controls.

    Raises ``CohortTooSmall`` when fewer than ``min_matched`` cohort members have controls.
    """
    everything = list(strata)
    matched = [s for s in everything if s.matched]
    without_controls = [s for s in everything if s.cohort > 0 and s.controls == 0]
    n = sum(s.cohort for s in matched)
    if n < min_matched:
        raise CohortTooSmall(n, min_matched)
    observed = sum(s.cohort_flagged for s in matched)
    offset, pmf = null_distribution(matched)
    greater, two_sided = p_values(offset, pmf, observed)
    expected = sum(
        s.cohort * (s.cohort_flagged + s.controls_flagged) / (s.cohort + s.controls)
        for s in matched
    )
    control_rate = sum(s.cohort * s.controls_flagged / s.controls for s in matched) / n
    cohort_rate = observed / n
    return CohortComparison(
        matched=n,
        unmatched=sum(s.cohort for s in without_controls),
        controls=sum(s.controls for s in matched),
        strata=len(matched),
        unmatched_strata=len(without_controls),
        flagged=observed,
        expected_flagged=expected,
        cohort_rate=cohort_rate,
        control_rate=control_rate,
        risk_difference=cohort_rate - control_rate,
        odds_ratio=mantel_haenszel(matched),
        p_greater=greater,
        p_two_sided=two_sided,
    )
