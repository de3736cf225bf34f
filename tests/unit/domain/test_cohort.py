"""The cohort test's statistics (domain.oversight.cohort): the exact stratified test against a
hand-computed hypergeometric case, a brute-force enumeration over strata, Fisher's exact test
on one stratum, and the effect sizes."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, hypergeom

from healthcode.domain.oversight.cohort import (
    MIN_MATCHED,
    TIE_TOLERANCE,
    CohortTooSmall,
    Person,
    Stratum,
    compare,
    null_distribution,
    strata_of,
)


def test_the_hand_computed_hypergeometric_case() -> None:
    # One stratum of M = 20 people: N = 12 on the list, n = 7 flagged in all, t = 6 of them
    # on the list (so 1 of the 8 controls is flagged). Under the null the list's flagged count
    # T is hypergeometric: P(T = k) = C(7, k) * C(13, 12 - k) / C(20, 12), C(20, 12) = 125970.
    #   k:          0     1     2      3      4      5      6     7
    #   C(7,k)*C(13,12-k):
    #              13   546  6006  25025  45045  36036  12012  1287   (sum 125970)
    # One-sided: P(T >= 6) = (12012 + 1287) / 125970 = 13299 / 125970 = 341 / 3230
    #            = 0.1055727554...
    # Two-sided: the outcomes no more likely than 12012: k = 0, 1, 2, 6, 7
    #            = (13 + 546 + 6006 + 12012 + 1287) / 125970 = 19864 / 125970 = 0.1576883...
    # Mantel-Haenszel with one stratum is the sample odds ratio (6 * 7) / (6 * 1) = 7.
    weights = [comb(7, k) * comb(13, 12 - k) for k in range(8)]
    assert weights == [13, 546, 6006, 25025, 45045, 36036, 12012, 1287]
    assert sum(weights) == comb(20, 12) == 125970
    one_sided = Fraction(comb(7, 6) * comb(13, 6) + comb(7, 7) * comb(13, 5), comb(20, 12))
    assert one_sided == Fraction(341, 3230)
    two_sided = Fraction(13 + 546 + 6006 + 12012 + 1287, 125970)

    found = compare([Stratum("only", cohort=12, cohort_flagged=6, controls=8, controls_flagged=1)])

    assert found.p_greater == pytest.approx(float(one_sided), rel=1e-12)
    assert found.p_two_sided == pytest.approx(float(two_sided), rel=1e-12)
    assert found.p_greater == pytest.approx(hypergeom.sf(6 - 1, 20, 7, 12), rel=1e-12)
    assert (found.flagged, found.matched, found.controls, found.strata) == (6, 12, 8, 1)
    assert found.expected_flagged == pytest.approx(12 * 7 / 20)
    assert (found.cohort_rate, found.control_rate) == (0.5, 0.125)
    assert found.risk_difference == pytest.approx(0.375)
    assert found.odds_ratio == pytest.approx(7.0)


def brute_force(strata: list[Stratum]) -> tuple[Fraction, Fraction]:
    """Exact p-values by enumerating every outcome of every stratum, in rational arithmetic."""
    supports = []
    for s in strata:
        total, flagged = s.cohort + s.controls, s.cohort_flagged + s.controls_flagged
        supports.append([
            (k, Fraction(comb(flagged, k) * comb(total - flagged, s.cohort - k), comb(total, s.cohort)))
            for k in range(0, min(flagged, s.cohort) + 1)
            if s.cohort - k <= total - flagged
        ])  # fmt: skip
    law: dict[int, Fraction] = {}
    for outcome in itertools.product(*supports):
        t = sum(k for k, _ in outcome)
        law[t] = law.get(t, Fraction(0)) + math.prod((p for _, p in outcome), start=Fraction(1))
    assert sum(law.values()) == 1
    observed = sum(s.cohort_flagged for s in strata)
    greater = sum((p for t, p in law.items() if t >= observed), start=Fraction(0))
    at = law[observed]
    two_sided = sum((p for p in law.values() if p <= at * (1 + Fraction(TIE_TOLERANCE))),
                    start=Fraction(0))  # fmt: skip
    return greater, two_sided


def test_three_strata_against_brute_force() -> None:
    strata = [
        Stratum("410102/none", cohort=6, cohort_flagged=4, controls=9, controls_flagged=2),
        Stratum("410102/close_contact", cohort=3, cohort_flagged=3, controls=4, controls_flagged=3),
        Stratum("410103/none", cohort=5, cohort_flagged=1, controls=11, controls_flagged=1),
    ]
    greater, two_sided = brute_force(strata)
    found = compare(strata)
    assert found.p_greater == pytest.approx(float(greater), rel=1e-12)
    assert found.p_two_sided == pytest.approx(float(two_sided), rel=1e-12)
    assert found.flagged == 8 and found.matched == 14 and found.strata == 3


counts = st.integers(min_value=1, max_value=9)


@st.composite
def strata_lists(draw: st.DrawFn, max_strata: int = 4) -> list[Stratum]:
    found = []
    for n in range(draw(st.integers(min_value=1, max_value=max_strata))):
        cohort, controls = draw(counts), draw(counts)
        found.append(Stratum(
            f"s{n}", cohort, draw(st.integers(0, cohort)), controls, draw(st.integers(0, controls))
        ))  # fmt: skip
    return found


@settings(max_examples=150, deadline=None)
@given(strata_lists())
def test_many_strata_against_brute_force(strata: list[Stratum]) -> None:
    greater, two_sided = brute_force(strata)
    found = compare(strata, min_matched=1)
    assert found.p_greater == pytest.approx(float(greater), rel=1e-9, abs=1e-300)
    assert found.p_two_sided == pytest.approx(float(two_sided), rel=1e-9, abs=1e-300)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 60), st.integers(1, 60), st.data()
)  # cohort and control sizes; then the flagged in each
def test_one_stratum_is_fishers_exact_test(cohort: int, controls: int, data: st.DataObject) -> None:
    a = data.draw(st.integers(0, cohort))
    c = data.draw(st.integers(0, controls))
    b, d = cohort - a, controls - c
    found = compare([Stratum("one", cohort, a, controls, c)], min_matched=1)
    greater = fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
    odds, two_sided = fisher_exact([[a, b], [c, d]], alternative="two-sided")
    assert found.p_greater == pytest.approx(greater, rel=1e-9)
    assert found.p_greater == pytest.approx(
        hypergeom.sf(a - 1, cohort + controls, a + c, cohort), rel=1e-9
    )
    assert found.p_two_sided == pytest.approx(two_sided, rel=1e-9)
    # With one stratum the Mantel-Haenszel odds ratio is the sample odds ratio ad / bc.
    if a * d == 0 and b * c == 0:
        assert found.odds_ratio is None
    else:
        assert found.odds_ratio == pytest.approx(odds)


def test_no_effect_gives_a_large_p_value() -> None:
    # The cohort is flagged exactly as often as its controls in each stratum.
    strata = [
        Stratum("410102/none", cohort=100, cohort_flagged=2, controls=5000, controls_flagged=100),
        Stratum("410102/close_contact", cohort=40, cohort_flagged=30, controls=400, controls_flagged=300),
        Stratum("410103/none", cohort=60, cohort_flagged=3, controls=3000, controls_flagged=150),
    ]  # fmt: skip
    found = compare(strata)
    assert found.risk_difference == pytest.approx(0.0, abs=1e-12)
    assert found.odds_ratio == pytest.approx(1.0, rel=0.05)
    assert found.p_greater > 0.4
    assert found.p_two_sided > 0.9


def test_an_a1_cohort_red_without_exposure_is_flagged_off_the_scale() -> None:
    # 1,317 depositors with no exposure, all red; their 2 million neighbours: 200 flagged.
    found = compare([Stratum("410102/none", 1317, 1317, 2_000_000, 200)])
    assert found.p_greater < 1e-300 and found.p_two_sided < 1e-300
    assert found.cohort_rate == 1.0 and found.control_rate == pytest.approx(1e-4)
    assert found.odds_ratio == math.inf  # no unflagged depositor to put against a control


def test_strata_without_controls_or_cohort_are_left_out_and_counted() -> None:
    people = (
        [Person("a", flagged=i < 3, in_cohort=True) for i in range(10)]
        + [Person("a", flagged=i < 2, in_cohort=False) for i in range(20)]
        + [Person("only-cohort", flagged=True, in_cohort=True) for _ in range(4)]
        + [Person("only-controls", flagged=True, in_cohort=False) for _ in range(7)]
    )
    strata = strata_of(people)
    assert strata == [
        Stratum("a", 10, 3, 20, 2),
        Stratum("only-cohort", 4, 4, 0, 0),
        Stratum("only-controls", 0, 0, 7, 7),
    ]
    found = compare(strata)
    assert (found.matched, found.unmatched, found.controls) == (10, 4, 20)
    assert (found.strata, found.unmatched_strata, found.flagged) == (1, 1, 3)
    assert found.p_greater == pytest.approx(compare(strata[:1]).p_greater)


def test_a_cohort_too_small_is_refused_with_its_numbers() -> None:
    with pytest.raises(CohortTooSmall) as refused:
        compare([Stratum("a", MIN_MATCHED - 1, 5, 100, 5), Stratum("b", 50, 50, 0, 0)])
    assert (refused.value.matched, refused.value.minimum) == (MIN_MATCHED - 1, MIN_MATCHED)
    assert compare([Stratum("a", MIN_MATCHED, 5, 100, 5)]).matched == MIN_MATCHED


def test_the_control_rate_is_weighted_to_the_cohorts_mix() -> None:
    # Controls are 10% flagged in one area, 50% in another; the cohort lives 9:1 in them.
    strata = [Stratum("x", 90, 9, 1000, 100), Stratum("y", 10, 5, 10_000, 5000)]
    found = compare(strata)
    assert found.control_rate == pytest.approx((90 * 0.1 + 10 * 0.5) / 100)
    assert found.cohort_rate == pytest.approx(0.14) and found.risk_difference == pytest.approx(0)


def test_odds_ratio_when_nothing_is_flagged_is_undefined_and_p_is_one() -> None:
    found = compare([Stratum("a", 20, 0, 30, 0)])
    assert found.odds_ratio is None
    assert (found.p_greater, found.p_two_sided) == (1.0, 1.0)


def test_the_null_distribution_of_many_large_strata_is_a_distribution() -> None:
    rng = np.random.default_rng(7)
    strata = []
    for n in range(400):
        cohort, controls = int(rng.integers(1, 300)), int(rng.integers(1, 20_000))
        strata.append(Stratum(f"s{n}", cohort, int(rng.integers(0, cohort + 1)), controls,
                              int(rng.integers(0, controls + 1))))  # fmt: skip
    offset, pmf = null_distribution(strata)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    mean = float(np.dot(np.arange(offset, offset + pmf.size), pmf))
    assert mean == pytest.approx(compare(strata).expected_flagged, rel=1e-9)
