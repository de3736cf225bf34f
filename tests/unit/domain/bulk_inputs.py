"""Hypothesis strategies for the bulk evaluation's tests: small worlds of several people with
evidence of every kind, designations (area- and venue-scoped, some recorded late, some cut
short or withdrawn as made in error), orders (some ended early), set-asides, and rulebooks (the default edition or random ones).

Times lie on a 6-hour grid (with the odd microsecond off it) so that windows, designations,
orders and ``at`` meet exactly at their edges often.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from healthcode.domain.designations import END_REASONS, DesignationEnd, RiskDesignation, RiskLevel
from healthcode.domain.evidence import (
    MATCHABLE,
    BorderEntry,
    CloseContact,
    Evidence,
    EvidenceKind,
    QuarantineCompleted,
    Recovery,
    TestResult,
    Vaccination,
    VenueVisit,
)
from healthcode.domain.orders import Order, OrderKind
from healthcode.domain.rulebook import (
    Clearing,
    Colour,
    EvidenceTrigger,
    OrderTrigger,
    Reason,
    Rule,
    Rulebook,
    load_rulebook,
)
from healthcode.domain.status import SetAside, StatusInputs, decide
from healthcode.services.rulebooks import default_edition_source

T0 = datetime(2026, 6, 1, tzinfo=UTC)
STEP = timedelta(hours=6)
EDITION_1 = load_rulebook(default_edition_source())
PERSONS = tuple(f"{n:x}" * 32 for n in range(1, 6))
DISTRICTS = ("410102", "410103", "410201", "310115")
DESIGNATED = ("410000", "410100", "410102", "410103", "310000", "310100", "310115", "420100")
VENUES = ("station", "market", "mall")
SOURCES = ("lab-1", "scan-1", "cdc-1", "border-1")
REASON = Reason("理由", "reason")


_OFF_GRID = st.sampled_from((0, 0, 0, 0, 1, -1))
_STEPS = {
    (low, high): st.integers(low, high) for low, high in ((0, 120), (0, 110), (0, 125), (0, 130))
}


@st.composite
def instants(draw: st.DrawFn, low: int = 0, high: int = 120) -> datetime:
    """A time on the grid (T0 + k * 6 h), now and then a microsecond off it."""
    base = T0 + draw(_STEPS[(low, high)]) * STEP
    return base + timedelta(microseconds=draw(_OFF_GRID))


_INSTANT = instants()
_KIND = st.sampled_from(tuple(EvidenceKind))
_DELAY = st.sampled_from((0, 0, 1, 4, 12, -1))
_SOURCE = st.sampled_from(SOURCES)
_PERSON = st.sampled_from(PERSONS)
_DISTRICT = st.sampled_from(DISTRICTS)
_METHOD = st.sampled_from(("pcr", "antigen"))
_RESULT = st.sampled_from(("positive", "negative", "negative"))
_VENUE = st.sampled_from(VENUES)
_PRESENCE = st.sampled_from(("proven", "proven", "unverified"))
_AREA_OF = {"station": "410103", "market": "410102", "mall": "310115"}
_VISIT_AREA = {venue: st.sampled_from((area, area, *DISTRICTS)) for venue, area in _AREA_OF.items()}


@st.composite
def _evidence(draw: st.DrawFn) -> Evidence:
    kind = draw(_KIND)
    occurred = draw(_INSTANT)
    delay = draw(_DELAY)  # a lab result can come days later
    common: dict[str, Any] = {
        "source_id": draw(_SOURCE),
        "record_id": "r",
        "person": draw(_PERSON),
        "area": draw(_DISTRICT),
        "occurred_at": occurred,
        "received_at": occurred + delay * STEP,
    }
    if kind is EvidenceKind.TEST_RESULT:
        return TestResult(
            **common,
            method=draw(_METHOD),
            result=draw(_RESULT),
        )
    if kind is EvidenceKind.VENUE_VISIT:
        venue = draw(_VENUE)
        return VenueVisit(
            **{**common, "area": draw(_VISIT_AREA[venue])},
            venue_id=venue,
            presence=draw(_PRESENCE),
        )
    if kind is EvidenceKind.BORDER_ENTRY:
        return BorderEntry(**common, port="PVG", quarantine_required=draw(st.booleans()))
    if kind is EvidenceKind.VACCINATION:
        return Vaccination(**common, vaccine="x", dose=1)
    if kind is EvidenceKind.CLOSE_CONTACT:
        return CloseContact(**common, case_ref="case-1")
    if kind is EvidenceKind.QUARANTINE_COMPLETED:
        return QuarantineCompleted(**common)
    return Recovery(**common)


_EVIDENCE = _evidence()


_RECORDED_LATE = st.sampled_from((0, 0, -1, 8))
_DESIGNATED = st.sampled_from(DESIGNATED)
_LEVEL = st.sampled_from(tuple(RiskLevel))
_SCOPE = st.one_of(st.none(), st.none(), st.sampled_from((*VENUES, "elsewhere")))
_FROM = instants(high=110)
_TO = st.one_of(st.none(), instants(high=125))


# Ends recorded after the designation, each cutting it to an instant (maybe before its start,
# or past its end) or withdrawing it; the service records only earlier and earlier ends, but
# what the rules read is defined for any.
_DESIGNATION_ENDS = st.lists(
    st.tuples(_INSTANT, st.integers(0, 12), st.sampled_from(sorted(END_REASONS))), max_size=2
)


@st.composite
def _designation(draw: st.DrawFn) -> RiskDesignation:
    start = draw(_FROM)
    recorded = start + draw(_RECORDED_LATE) * STEP
    ends = sorted(
        (DesignationEnd(ended, recorded + after * STEP, reason)
         for ended, after, reason in draw(_DESIGNATION_ENDS)),
        key=lambda end: end.recorded_at,
    )  # fmt: skip
    return RiskDesignation(
        id="d",
        area=draw(_DESIGNATED),
        level=draw(_LEVEL),
        valid_from=start,
        valid_to=draw(_TO),
        authority_id="zz",
        case_count=3,
        basis="3 cases",
        recorded_at=recorded,
        venue_id=draw(_SCOPE),
        ends=tuple(ends),
    )


_ORDER_KIND = st.sampled_from(tuple(OrderKind))
_ORDER_STEPS = st.integers(-2, 60)
_ORDER_RECORDED = st.sampled_from((0, -4, 4))
_ENDED = st.one_of(st.none(), _INSTANT)
# An end recorded as it takes effect, after, or ahead of it (an order shortened).
_ENDED_RECORDED = st.sampled_from((0, 1, -4))
# Ends it had before: each later, and recorded earlier, than the one that replaced it.
_EARLIER_ENDS = st.lists(st.tuples(st.integers(1, 8), st.integers(0, 4)), max_size=2)


@st.composite
def _order(draw: st.DrawFn) -> Order:
    start = draw(_FROM)
    ended = draw(_ENDED)
    recorded = None if ended is None else ended + draw(_ENDED_RECORDED) * STEP
    earlier: list[tuple[datetime, datetime]] = []
    if ended is not None and recorded is not None:
        at, known = ended, recorded
        for later, sooner in draw(_EARLIER_ENDS):
            at, known = at + later * STEP, known - sooner * STEP
            earlier.insert(0, (at, known))
    return Order(
        id="o",
        kind=draw(_ORDER_KIND),
        person=draw(_PERSON),
        valid_from=start,
        valid_until=start + draw(_ORDER_STEPS) * STEP,
        recorded_at=start + draw(_ORDER_RECORDED) * STEP,
        ended_at=ended,
        ended_recorded_at=recorded,
        earlier_ends=tuple(earlier),
    )


_ASIDE_OF = st.sampled_from(("record", "record", "unknown record", "source"))
_ASIDE_FOR = st.sampled_from(("anyone", "anyone", "its person", "someone"))
_ASIDE_RECORDED = st.sampled_from((None, None, 0, 3, -3))


@st.composite
def _set_aside(draw: st.DrawFn, evidence: list[Evidence]) -> SetAside:
    """A record (maybe one no one has) or a source, set aside from an instant, for anyone or
    for one person (its own or another), maybe known only later."""
    effective = draw(_INSTANT)
    late = draw(_ASIDE_RECORDED)
    recorded = None if late is None else effective + late * STEP
    what, who = draw(_ASIDE_OF), draw(_ASIDE_FOR)
    item = evidence[draw(st.integers(0, len(evidence) - 1))] if evidence else None
    person = {"anyone": None, "its person": item.person if item else None}.get(who, draw(_PERSON))
    common = {"effective_at": effective, "recorded_at": recorded, "person": person}
    if item is not None and what == "record":
        return SetAside(**common, evidence_ref=item.ref)
    if what != "source":
        return SetAside(**common, evidence_ref="nowhere/r0")
    return SetAside(**common, source_id=item.source_id if item else draw(_SOURCE))


_FIELDS = {
    kind: st.lists(st.sampled_from(sorted(f)), unique=True) for kind, f in MATCHABLE.items() if f
}
_VALUES = {
    name: st.sampled_from(sorted(values, key=str))
    for fields in MATCHABLE.values()
    for name, values in fields.items()
}


def _match(draw: st.DrawFn, kind: EvidenceKind) -> tuple[tuple[str, object], ...]:
    chosen = draw(_FIELDS[kind]) if kind in _FIELDS else []
    return tuple(sorted((name, draw(_VALUES[name])) for name in chosen))


_COLOUR = st.sampled_from((Colour.RED, Colour.YELLOW, Colour.YELLOW, Colour.GREEN))
_ORDER_KINDS = st.lists(_ORDER_KIND, min_size=1, unique=True)
_LEVELS = st.lists(_LEVEL, min_size=1)
_LASTS = st.integers(1, 40)
_JITTER = st.sampled_from((0, 1))


@st.composite
def _rule(draw: st.DrawFn) -> Rule:
    colour = draw(_COLOUR)
    trigger: EvidenceTrigger | OrderTrigger
    lasts = until = None
    if draw(st.integers(0, 3)) == 0:
        trigger = OrderTrigger(frozenset(draw(_ORDER_KINDS)))
    else:
        kind = draw(_KIND)
        levels: frozenset[RiskLevel] = frozenset()
        if kind is EvidenceKind.VENUE_VISIT and draw(st.booleans()):
            levels = frozenset(draw(_LEVELS))
        trigger = EvidenceTrigger(kind, _match(draw, kind), levels)
        if draw(st.booleans()):
            clearing = draw(_KIND)
            until = Clearing(clearing, _match(draw, clearing))
        if until is None or draw(st.booleans()):
            lasts = draw(_LASTS) * STEP + timedelta(microseconds=draw(_JITTER))
    return Rule("r", colour, trigger, until, lasts, REASON)


_RULES = st.lists(_rule(), min_size=1, max_size=6)


@st.composite
def rulebooks(draw: st.DrawFn) -> Rulebook:
    """The default edition, or a random one (any colour, trigger, clearing and duration)."""
    if draw(st.integers(0, 2)) == 0:
        return EDITION_1
    drawn = draw(_RULES)
    return Rulebook(
        version=2,
        title=REASON,
        default_rule_id="no-risk",
        default_reason=REASON,
        rules=tuple(replace(rule, id=f"r{n}") for n, rule in enumerate(drawn)),
        source={},
    )


@dataclass(frozen=True)
class World:
    persons: tuple[str, ...]
    evidence: list[Evidence]
    designations: list[RiskDesignation]
    orders: list[Order]
    set_asides: list[SetAside]
    rulebook: Rulebook
    at: datetime

    def inputs(self, person: str) -> StatusInputs:
        return StatusInputs(
            evidence=[e for e in self.evidence if e.person == person],
            orders=[o for o in self.orders if o.person == person],
            designations=self.designations,
            set_asides=self.set_asides,
        )

    def decided(self, person: str) -> tuple[Colour, str, datetime | None]:
        status = decide(self.inputs(person), self.rulebook, self.at)
        return (status.colour, status.rule_id, status.valid_until)


_HOW_MANY = st.integers(1, len(PERSONS))
_DESIGNATIONS = st.lists(_designation(), max_size=4)
_ORDERS = st.lists(_order(), max_size=4)
_ASIDES = st.integers(0, 3)
_RULEBOOKS = rulebooks()
_AT = instants(high=130)
_ALL_EVIDENCE = st.lists(_EVIDENCE, max_size=30)


@st.composite
def worlds(draw: st.DrawFn, rulebook: st.SearchStrategy[Rulebook] | None = None) -> World:
    drawn = draw(_ALL_EVIDENCE)
    evidence = [item.model_copy(update={"record_id": f"r{n}"}) for n, item in enumerate(drawn)]
    return World(
        persons=PERSONS[: draw(_HOW_MANY)],
        evidence=evidence,
        designations=[replace(d, id=f"d{n}") for n, d in enumerate(draw(_DESIGNATIONS))],
        orders=[replace(o, id=f"o{n}") for n, o in enumerate(draw(_ORDERS))],
        set_asides=[draw(_set_aside(evidence)) for _ in range(draw(_ASIDES))],
        rulebook=draw(rulebook if rulebook is not None else _RULEBOOKS),
        at=draw(_AT),
    )
