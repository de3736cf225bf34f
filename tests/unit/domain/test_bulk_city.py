"""On a generated city of a few thousand people, bulk equals ``decide`` for every person."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from bench.city import City, generate
from tests.unit.domain.bulk_inputs import EDITION_1

from healthcode.domain.bulk import evaluate
from healthcode.domain.bulk_plan import plan_load
from healthcode.domain.status import StatusInputs, decide

PEOPLE = 2_000


@pytest.fixture(scope="module")
def city() -> City:
    return generate(PEOPLE, days=30, seed=7, case_rate=0.02)


@pytest.fixture(scope="module")
def inputs(city: City) -> dict[int, StatusInputs]:
    return city.inputs(np.arange(PEOPLE))


@pytest.mark.parametrize("day", [11, 30])
def test_bulk_equals_decide_for_everyone(
    city: City, inputs: dict[int, StatusInputs], day: int
) -> None:
    at = city.start + timedelta(days=day, hours=3)
    result = evaluate(city.columns, EDITION_1, at, designations=city.designations,
                      orders=city.orders, set_asides=city.set_asides)  # fmt: skip
    for person in range(PEOPLE):
        status = decide(inputs[person], EDITION_1, at)
        got = (result.colour_of(person), result.rule_id_of(person), result.valid_until_of(person))
        assert got == (status.colour, status.rule_id, status.valid_until), city.columns.persons[
            person
        ]
    # The city exercises every rule and set-aside, not only the default.
    assert len(set(result.rule.tolist())) >= 5


def test_the_plan_loads_a_small_share_and_changes_nothing(city: City) -> None:
    plan = plan_load(EDITION_1, city.designations)
    keep = plan.keep(city.columns)
    assert keep.mean() < 0.35
    loaded = city.columns.take(keep)
    loaded = replace(loaded, plan=plan)
    for at in (city.start + timedelta(days=12), city.at):
        everything = evaluate(city.columns, EDITION_1, at, designations=city.designations,
                              orders=city.orders, set_asides=city.set_asides)  # fmt: skip
        planned = evaluate(loaded, EDITION_1, at, designations=city.designations,
                           orders=city.orders, set_asides=city.set_asides)  # fmt: skip
        assert np.array_equal(everything.colour, planned.colour)
        assert np.array_equal(everything.rule, planned.rule)
        assert np.array_equal(everything.valid_until, planned.valid_until)
