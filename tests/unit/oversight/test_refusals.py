"""Officials whose refused acts of an abuse's shape keep coming."""

from healthcode.domain.oversight.refusals import RefusalPolicy, repeated_refusals


def test_an_official_past_the_threshold_is_found_with_each_refusal() -> None:
    rows = [(3, "order.evidence_not_theirs"), (1, "order.evidence_missing"),
            (7, "order.outside_jurisdiction"), (9, "order.evidence_missing"),
            (12, "order.cosign_self")]  # fmt: skip
    [found] = repeated_refusals({"zz-off-1": rows})
    assert found.official == "zz-off-1" and found.count == 5
    assert found.refusals == (1, 3, 7, 9, 12)
    assert found.codes[0] == ("order.evidence_missing", 2)


def test_one_below_it_is_not() -> None:
    rows = [(n, "order.evidence_missing") for n in range(4)]
    assert repeated_refusals({"zz-off-1": rows}) == []
    assert repeated_refusals({"zz-off-1": rows}, RefusalPolicy(min_refused=4)) != []


def test_slips_of_the_form_do_not_count() -> None:
    slips = [(1, "request.malformed"), (2, "order.evidence_unknown"),
             (3, "order.expiry_too_long"), (4, "auth.forbidden"), (5, "order.invalid_period"),
             (6, "order.evidence_missing")]  # fmt: skip
    assert repeated_refusals({"zz-off-1": slips * 3}) == []
