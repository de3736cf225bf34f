"""The bulk evaluation gives, for every person, exactly what ``decide`` gives."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.domain.bulk_inputs import EDITION_1, PERSONS, STEP, T0, World, worlds

from healthcode.domain.bulk import evaluate
from healthcode.domain.bulk_columns import NO_END, EvidenceColumns, from_micros, to_micros
from healthcode.domain.bulk_plan import plan_load
from healthcode.domain.designations import RiskDesignation, RiskLevel
from healthcode.domain.evidence import TestResult as LabResult
from healthcode.domain.evidence import VenueVisit
from healthcode.domain.orders import Order, OrderKind
from healthcode.domain.rulebook import Colour, load_rulebook
from healthcode.domain.status import SetAside, can_start_episode, could_start_episodes
from healthcode.services.rulebooks import default_edition_source

DAY = timedelta(days=1)


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bulk(world: World, columns: EvidenceColumns) -> list[tuple[Colour, str, datetime | None]]:
    result = evaluate(
        columns,
        world.rulebook,
        world.at,
        designations=world.designations,
        orders=world.orders,
        set_asides=world.set_asides,
    )
    assert result.persons == world.persons
    return [
        (result.colour_of(i), result.rule_id_of(i), result.valid_until_of(i))
        for i in range(len(result))
    ]


def decided(world: World) -> list[tuple[Colour, str, datetime | None]]:
    return [world.decided(person) for person in world.persons]


@examples(120)
@given(worlds(st.just(EDITION_1)))
def test_bulk_equals_decide_under_the_default_edition(world: World) -> None:
    columns = EvidenceColumns.from_evidence(world.evidence, world.persons)
    assert bulk(world, columns) == decided(world)


@examples(150)
@given(worlds())
def test_bulk_equals_decide_under_random_rulebooks(world: World) -> None:
    columns = EvidenceColumns.from_evidence(world.evidence, world.persons)
    assert bulk(world, columns) == decided(world)


@examples(100)
@given(worlds(), st.one_of(st.none(), st.integers(0, 80)))
def test_the_load_plan_keeps_every_record_that_matters(world: World, before: int | None) -> None:
    """Evaluating only the rows a plan loads (for evaluations from ``since`` on, here up to 20
    days before ``at``) gives what decide gives on all of them."""
    columns = EvidenceColumns.from_evidence(world.evidence, world.persons)
    since = None if before is None else world.at - before * STEP
    plan = plan_load(world.rulebook, world.designations, since=since)
    kept = columns.take(plan.keep(columns))
    # As store.columns loads: only the plan's venues coded, codes for the set-aside sources,
    # rows for the set-aside refs.
    coded = {venue: code for code, venue in enumerate(plan.venues)}
    venue = [coded.get(kept.venues[v], -1) if v >= 0 else -1 for v in kept.venue.tolist()]
    asked = [a.source_id for a in world.set_asides if a.source_id and a.evidence_ref is None]
    refs = {
        a.evidence_ref: kept.refs.get(a.evidence_ref, -1)
        for a in world.set_asides
        if a.evidence_ref
    }
    loaded = replace(kept, plan=plan, codes_complete=False, refs_complete=False, refs=refs,
                     venue=np.array(venue, dtype=np.int32), venues=plan.venues,
                     sources=tuple(dict.fromkeys((*kept.sources, *asked))))  # fmt: skip
    assert bulk(world, loaded) == decided(world)


@examples(40)
@given(worlds(), st.permutations(range(40)))
def test_row_order_does_not_matter(world: World, shuffle: list[int]) -> None:
    columns = EvidenceColumns.from_evidence(world.evidence, world.persons)
    order = np.array([i for i in shuffle if i < len(columns)], dtype=np.intp)
    assert bulk(world, columns.take(order)) == bulk(world, columns)


# --- a few cases spelt out ----------------------------------------------------------------

P, Q = PERSONS[0], PERSONS[1]


def visit(person: str, at: datetime, venue: str = "station", n: int = 0) -> VenueVisit:
    return VenueVisit(source_id="scan", record_id=f"v{n}", person=person, area="410103",
                      occurred_at=at, received_at=at, venue_id=venue, presence="proven")  # fmt: skip


def lab(person: str, at: datetime, result: str, n: int = 0) -> LabResult:
    return LabResult(source_id="lab", record_id=f"t{n}", person=person, area="410102",
                      occurred_at=at, received_at=at, method="pcr", result=result)  # fmt: skip


def test_people_without_evidence_are_green_with_nothing_pending() -> None:
    columns = EvidenceColumns.from_evidence([], [P, Q])
    result = evaluate(columns, EDITION_1, T0)
    assert [result.key_of(i) for i in range(2)] == [(Colour.GREEN, "no-risk")] * 2
    assert (result.valid_until == NO_END).all() and (result.rule == -1).all()


def test_a_future_order_sets_valid_until_of_a_green_person() -> None:
    order = Order(id="o1", kind=OrderKind.CASE_ISOLATION, person=Q, valid_from=T0 + 2 * DAY,
                  valid_until=T0 + 9 * DAY, recorded_at=T0)  # fmt: skip
    columns = EvidenceColumns.from_evidence([], [P, Q])
    result = evaluate(
        columns,
        EDITION_1,
        T0,
        orders=[order, replace(order, person="f" * 32)],
    )
    assert result.valid_until_of(1) == T0 + 2 * DAY and result.valid_until_of(0) is None


def test_a_venue_designation_needs_its_venue_coded_when_loaded_by_plan() -> None:
    here = RiskDesignation(id="d1", area="410103", level=RiskLevel.HIGH, valid_from=T0,
                           valid_to=None, authority_id="zz", case_count=3, basis="3",
                           recorded_at=T0, venue_id="station")  # fmt: skip
    columns = EvidenceColumns.from_evidence([visit(P, T0 + DAY)], [P])
    result = evaluate(columns, EDITION_1, T0 + DAY, designations=[here])
    assert result.key_of(0) == (Colour.RED, "high-risk-visit")
    assert result.valid_until_of(0) == T0 + 15 * DAY
    partial = replace(columns, venues=(), codes_complete=False)
    partial.venue[:] = -1
    with pytest.raises(ValueError, match="station"):
        evaluate(partial, EDITION_1, T0 + DAY, designations=[here])


def test_columns_loaded_for_later_instants_refuse_an_earlier_one() -> None:
    columns = EvidenceColumns.from_evidence([lab(P, T0, "positive")], [P])
    loaded = replace(columns, plan=plan_load(EDITION_1, [], since=T0 + DAY))
    assert evaluate(loaded, EDITION_1, T0 + DAY).key_of(0) == (Colour.RED, "confirmed-case")
    with pytest.raises(ValueError, match="later instant"):
        evaluate(loaded, EDITION_1, T0 + DAY - timedelta(microseconds=1))


def test_columns_loaded_by_a_plan_refuse_designations_outside_it() -> None:
    first = RiskDesignation(id="d1", area="410100", level=RiskLevel.HIGH, valid_from=T0,
                            valid_to=None, authority_id="zz", case_count=3, basis="3",
                            recorded_at=T0)  # fmt: skip
    later = replace(first, id="d2", area="310000")
    columns = EvidenceColumns.from_evidence([visit(P, T0 + DAY)], [P])
    plan = plan_load(EDITION_1, [first])
    loaded = replace(columns, plan=plan)
    evaluate(loaded, EDITION_1, T0 + DAY, designations=[first])
    with pytest.raises(ValueError, match="d2"):
        evaluate(loaded, EDITION_1, T0 + DAY, designations=[first, later])


def test_set_aside_refs_must_have_been_resolved_when_loaded() -> None:
    columns = EvidenceColumns.from_evidence([lab(P, T0, "positive")], [P])
    partial = replace(columns, refs={}, refs_complete=False)
    aside = SetAside(effective_at=T0, evidence_ref="lab/t0")
    assert evaluate(columns, EDITION_1, T0, set_asides=[aside]).key_of(0)[0] is Colour.GREEN
    with pytest.raises(ValueError, match="lab/t0"):
        evaluate(partial, EDITION_1, T0, set_asides=[aside])


def test_micros_round_trip() -> None:
    for when in (T0, T0 + timedelta(microseconds=1), T0 - 400 * 365 * DAY):
        assert from_micros(to_micros(when)) == when


@given(worlds())
def test_could_start_episodes_decides_as_can_start_episode_item_by_item(world: World) -> None:
    """Deciding once per distinct (kind, attributes, area, venue, time) changes no answer."""
    expected = {
        item.person
        for item in world.evidence
        if can_start_episode(item, world.rulebook, world.designations, world.at)
    }
    assert (
        could_start_episodes(world.evidence, world.rulebook, world.designations, world.at)
        == expected
    )


def test_a_plan_codes_a_designated_venue_even_when_any_visit_is_also_read() -> None:
    """A rulebook that reads visits at any level too (no windows cut the visits loaded) still
    has a rule that reads them only under designations, whose venues must be coded: the plan
    listed none, and evaluating the loaded rows failed on the venue (found by Hypothesis)."""
    source = copy.deepcopy(default_edition_source())
    source["rules"].append({
        "id": "any-visit", "colour": "yellow",
        "trigger": {"evidence": "venue_visit", "match": {"presence": "proven"}},
        "lasts": {"days": 1}, "reason": {"zh": "到访任何场所。", "en": "Any visit."},
    })  # fmt: skip
    rulebook = load_rulebook(source)
    at_station = RiskDesignation(id="d1", area="410103", level=RiskLevel.HIGH, valid_from=T0,
                                 valid_to=None, authority_id="zz", case_count=3, basis="3",
                                 recorded_at=T0, venue_id="station")  # fmt: skip
    plan = plan_load(rulebook, [at_station])
    assert plan.venues == ("station",)
