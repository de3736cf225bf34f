"""The status derivation at the edges of its windows, as a pure function of its inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from healthcode.domain.designations import RiskDesignation, RiskLevel
from healthcode.domain.evidence import (
    CloseContact,
    QuarantineCompleted,
    Recovery,
    VenueVisit,
)
from healthcode.domain.evidence import (
    TestResult as LabResult,
)
from healthcode.domain.orders import Order, OrderKind
from healthcode.domain.rulebook import Colour, load_rulebook
from healthcode.domain.status import SetAside, StatusInputs, decide
from healthcode.services.rulebooks import default_edition_source

RULEBOOK = load_rulebook(default_edition_source())
P = "0123456789abcdef0123456789abcdef"
T0 = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def visit(
    at: datetime,
    *,
    presence: str = "proven",
    received: datetime | None = None,
    venue: str = "station",
) -> VenueVisit:
    return VenueVisit(source_id="scan", record_id=f"v{at.timestamp()}", person=P, area="410103",
                      occurred_at=at, received_at=received or at, venue_id=venue, presence=presence)  # fmt: skip


def lab_test(at: datetime, result: str, *, received: datetime | None = None) -> LabResult:
    return LabResult(source_id="lab", record_id=f"t{at.timestamp()}", person=P, area="410103",
                      occurred_at=at, received_at=received or at, method="pcr", result=result)  # fmt: skip


def designation(
    level: RiskLevel, start: datetime, end: datetime | None, recorded: datetime | None = None
) -> RiskDesignation:
    return RiskDesignation(id=f"d-{level}", area="410100", level=level, valid_from=start, valid_to=end,
                           authority_id="zz", case_count=3, basis="3 cases", recorded_at=recorded or start)  # fmt: skip


def status(
    at: datetime,
    *evidence: object,
    designations: tuple[RiskDesignation, ...] = (),
    orders: tuple[Order, ...] = (),
    set_asides: tuple[SetAside, ...] = (),
):  # type: ignore[no-untyped-def]
    return decide(
        StatusInputs(
            evidence=list(evidence), designations=designations, orders=orders, set_asides=set_asides
        ),
        RULEBOOK,
        at,
    )  # type: ignore[arg-type]


def test_nothing_known_is_green_with_no_end() -> None:
    s = status(T0)
    assert (s.colour, s.rule_id, s.valid_until, s.inputs) == (Colour.GREEN, "no-risk", None, ())


def test_high_risk_visit_is_red_for_exactly_n_days() -> None:
    high = designation(RiskLevel.HIGH, T0, T0 + 10 * DAY)
    v = visit(T0 + DAY)
    inside = status(T0 + DAY, v, designations=(high,))
    assert (inside.colour, inside.rule_id) == (Colour.RED, "high-risk-visit")
    assert inside.valid_until == T0 + 15 * DAY
    assert inside.inputs == (f"designation:{high.id}", f"evidence:{v.ref}")
    last_moment = status(T0 + 15 * DAY - timedelta(microseconds=1), v, designations=(high,))
    assert last_moment.colour is Colour.RED
    at_n_days = status(T0 + 15 * DAY, v, designations=(high,))
    assert at_n_days.colour is Colour.GREEN and at_n_days.valid_until is None


@pytest.mark.parametrize(
    ("visit_at", "colour"),
    [
        (T0 + 2 * DAY - timedelta(seconds=1), Colour.GREEN),  # before the designation started
        (T0 + 2 * DAY, Colour.RED),  # the instant it starts
        (T0 + 4 * DAY - timedelta(seconds=1), Colour.RED),  # the last instant it covers
        (T0 + 4 * DAY, Colour.GREEN),  # the instant it ends
    ],
)
def test_designation_starting_or_ending_mid_window(visit_at: datetime, colour: Colour) -> None:
    high = designation(RiskLevel.HIGH, T0 + 2 * DAY, T0 + 4 * DAY, recorded=T0)
    assert status(T0 + 5 * DAY, visit(visit_at), designations=(high,)).colour is colour


def test_designation_recorded_later_counts_from_when_it_was_recorded() -> None:
    high = designation(RiskLevel.HIGH, T0, T0 + 5 * DAY, recorded=T0 + 3 * DAY)
    v = visit(T0 + DAY)
    assert status(T0 + 2 * DAY, v, designations=(high,)).colour is Colour.GREEN
    assert status(T0 + 3 * DAY, v, designations=(high,)).colour is Colour.RED


def test_unverified_visit_never_counts() -> None:
    high = designation(RiskLevel.HIGH, T0, None)
    assert (
        status(T0 + DAY, visit(T0 + DAY, presence="unverified"), designations=(high,)).colour
        is Colour.GREEN
    )


def test_medium_visit_yellow_until_negative_test_sampled_after_it() -> None:
    medium = designation(RiskLevel.MEDIUM, T0, None)
    v = visit(T0 + DAY)
    before = lab_test(
        T0 + DAY - timedelta(hours=1), "negative"
    )  # sampled before the visit: no effect
    after = lab_test(T0 + 2 * DAY, "negative", received=T0 + 3 * DAY)  # sampled after, arrives late
    s = status(T0 + 2 * DAY + timedelta(hours=1), v, before, after, designations=(medium,))
    assert (s.colour, s.rule_id) == (Colour.YELLOW, "medium-risk-visit")
    assert s.valid_until == T0 + 8 * DAY  # at most 7 days from the visit, as the edition says
    assert status(T0 + 3 * DAY, v, before, after, designations=(medium,)).colour is Colour.GREEN


def test_late_positive_counts_only_from_its_arrival() -> None:
    positive = lab_test(T0 + DAY, "positive", received=T0 + 3 * DAY)
    assert status(T0 + 2 * DAY, positive).colour is Colour.GREEN
    s = status(T0 + 3 * DAY, positive)
    assert (s.colour, s.rule_id, s.valid_until) == (Colour.RED, "confirmed-case", None)


def test_positive_red_until_recovery_after_the_sample() -> None:
    positive = lab_test(T0, "positive")
    early = Recovery(
        source_id="lab",
        record_id="rec0",
        person=P,
        area="410103",
        occurred_at=T0 - DAY,
        received_at=T0,
    )
    recovered = Recovery(
        source_id="lab",
        record_id="rec1",
        person=P,
        area="410103",
        occurred_at=T0 + 10 * DAY,
        received_at=T0 + 10 * DAY,
    )
    assert status(T0 + 5 * DAY, positive, early).colour is Colour.RED
    assert status(T0 + 10 * DAY, positive, early, recovered).colour is Colour.GREEN


def test_close_contact_is_yellow_not_red_and_ends_with_quarantine_completed() -> None:
    contact = CloseContact(
        source_id="cdc",
        record_id="c1",
        person=P,
        area="410103",
        occurred_at=T0,
        received_at=T0,
        case_ref="case-1",
    )
    s = status(T0 + DAY, contact)
    assert (s.colour, s.rule_id, s.valid_until) == (Colour.YELLOW, "close-contact", T0 + 14 * DAY)
    done = QuarantineCompleted(
        source_id="cdc",
        record_id="q1",
        person=P,
        area="410103",
        occurred_at=T0 + 5 * DAY,
        received_at=T0 + 5 * DAY,
    )
    assert status(T0 + 5 * DAY, contact, done).colour is Colour.GREEN


def test_red_for_a_close_contact_only_through_an_active_order() -> None:
    order = Order(id="o1", kind=OrderKind.CLOSE_CONTACT_QUARANTINE, person=P, valid_from=T0,
                  valid_until=T0 + 7 * DAY, recorded_at=T0, ended_at=T0 + 3 * DAY, ended_recorded_at=T0 + 3 * DAY)  # fmt: skip
    s = decide(StatusInputs(orders=[order]), RULEBOOK, T0 + DAY)
    assert (s.colour, s.rule_id, s.inputs) == (Colour.RED, "quarantine-order", ("order:o1",))
    assert decide(StatusInputs(orders=[order]), RULEBOOK, T0 + 3 * DAY).colour is Colour.GREEN


def test_an_order_ends_as_the_last_end_recorded_by_then_says() -> None:
    # Shortened on day 1 to end on day 5, then lifted on day 2: the end known on day 1 is day 5,
    # from day 2 it is day 2.
    order = Order(id="o1", kind=OrderKind.CLOSE_CONTACT_QUARANTINE, person=P, valid_from=T0,
                  valid_until=T0 + 7 * DAY, recorded_at=T0, ended_at=T0 + 2 * DAY,
                  ended_recorded_at=T0 + 2 * DAY, earlier_ends=((T0 + 5 * DAY, T0 + DAY),))  # fmt: skip
    assert order.end_as_known_at(T0) == T0 + 7 * DAY
    assert order.end_as_known_at(T0 + DAY) == T0 + 5 * DAY
    assert order.end_as_known_at(T0 + 2 * DAY) == T0 + 2 * DAY
    assert decide(StatusInputs(orders=[order]), RULEBOOK, T0 + DAY).valid_until == T0 + 5 * DAY


def test_most_severe_rule_wins_and_valid_until_is_the_next_change() -> None:
    medium = designation(RiskLevel.MEDIUM, T0, None)
    positive = lab_test(T0 + 2 * DAY, "positive")
    s = status(T0 + 2 * DAY, visit(T0 + DAY), positive, designations=(medium,))
    assert (s.colour, s.rule_id) == (Colour.RED, "confirmed-case")


def test_set_aside_evidence_stops_counting_from_its_instant() -> None:
    positive = lab_test(T0, "positive")
    aside = SetAside(effective_at=T0 + 2 * DAY, source_id="lab")
    assert status(T0 + DAY, positive, set_asides=(aside,)).colour is Colour.RED
    assert status(T0 + 2 * DAY, positive, set_asides=(aside,)).colour is Colour.GREEN


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        decide(StatusInputs(), RULEBOOK, datetime(2026, 6, 1))
