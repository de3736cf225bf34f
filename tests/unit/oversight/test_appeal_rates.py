"""Authorities whose appeals lapse, or are overturned, far more than others'."""

from math import comb

import pytest

from healthcode.domain.oversight.appeal_rates import AuthorityOutcomes, rate_anomalies


def test_an_authority_letting_appeals_lapse_is_found_with_an_exact_tail() -> None:
    outcomes = {
        "health-a": AuthorityOutcomes(decided=30, lapsed=9, overturned=4),
        "health-b": AuthorityOutcomes(decided=40, lapsed=0, overturned=8),
        "health-c": AuthorityOutcomes(decided=35, lapsed=0, overturned=6),
    }
    [found] = rate_anomalies(outcomes)
    assert (found.authority_id, found.outcome, found.count) == ("health-a", "lapsed", 9)
    assert found.expected_rate == 0.02  # the others lapsed none: the floor
    tail = sum(comb(30, k) * 0.02**k * 0.98 ** (30 - k) for k in range(9, 31))
    assert found.p_value == pytest.approx(tail, rel=1e-9)


def test_ordinary_variation_between_authorities_is_not() -> None:
    outcomes = {
        "health-a": AuthorityOutcomes(decided=30, lapsed=0, overturned=9),
        "health-b": AuthorityOutcomes(decided=40, lapsed=1, overturned=7),
        "health-c": AuthorityOutcomes(decided=6, lapsed=6, overturned=0),  # too few to judge
    }
    assert rate_anomalies(outcomes) == []


def test_overturns_are_compared_with_the_other_authorities_by_fisher_s_exact_test() -> None:
    from scipy.stats import fisher_exact

    # 7 of 15 against 5 of 42: a busy fortnight, not a pattern (p about 0.009).
    chance = {
        "health-a": AuthorityOutcomes(decided=15, lapsed=0, overturned=7),
        "health-b": AuthorityOutcomes(decided=42, lapsed=0, overturned=5),
    }
    assert rate_anomalies(chance) == []
    # 14 of 16 against 5 of 60 is.
    skewed = {
        "health-a": AuthorityOutcomes(decided=16, lapsed=0, overturned=14),
        "health-b": AuthorityOutcomes(decided=60, lapsed=0, overturned=5),
    }
    [found] = rate_anomalies(skewed)
    assert (found.authority_id, found.outcome) == ("health-a", "overturned")
    expected = fisher_exact([[14, 2], [5, 55]], alternative="greater").pvalue
    assert found.p_value == pytest.approx(expected)
