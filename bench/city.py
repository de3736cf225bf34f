"""A synthetic city as columns, generated with numpy from a seed (no per-record Python).

About one venue visit a day and one test a week per person, over ``days`` days; a share of
cases (a positive test, a recovery 12 days later, an isolation order), their close contacts
(some under quarantine orders, some then under home monitoring, some ended early), inbound
travellers (quarantine orders, completions), vaccinations (which no rule reads), designations
drawn around the venues and districts cases visited (some recorded late, some open-ended),
appeals that set single records aside, and one revoked scanning device.

Record ids are ``e<row>`` (zero-padded), so a row's reference is ``<source>/e<row>``. The same city feeds
the benchmark and the bulk-equals-decide test on thousands of people.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.city_decisions import appeals_upheld, designate_around_cases
from bench.city_frame import CITIES, DAY, HOUR, START, record_id
from healthcode.domain import evidence as ev
from healthcode.domain.bulk_columns import (
    ATTRIBUTES,
    KIND_CODE,
    KINDS,
    EvidenceColumns,
    attribute_code,
    from_micros,
    to_micros,
)
from healthcode.domain.designations import RiskDesignation
from healthcode.domain.orders import Order, OrderKind
from healthcode.domain.status import SetAside, StatusInputs

PROVINCE_OF_TRAVELLERS = "310000"


def _districts() -> NDArray[np.int32]:
    henan = [int(city) + d for city in CITIES for d in range(1, 9)]
    shanghai = [310100 + d for d in range(1, 17)]
    return np.array(sorted(henan + shanghai), dtype=np.int32)


@dataclass
class City:
    columns: EvidenceColumns
    designations: list[RiskDesignation]
    orders: list[Order]
    set_asides: list[SetAside]
    start: datetime
    at: datetime  # the end of the generated period
    home: NDArray[np.int32]  # each person's home district

    def record_id(self, row: int) -> str:
        return record_id(row)

    def ref(self, row: int) -> str:
        return f"{self.columns.sources[int(self.columns.source[row])]}/{record_id(row)}"

    def rows_of(self, people: NDArray[np.int64]) -> dict[int, list[int]]:
        """The rows of each of these people (position -> row numbers)."""
        wanted = np.zeros(len(self.columns.persons), dtype=np.bool_)
        wanted[people] = True
        rows = np.flatnonzero(wanted[self.columns.person])
        found: dict[int, list[int]] = {int(p): [] for p in people}
        for row, person in zip(rows.tolist(), self.columns.person[rows].tolist(), strict=True):
            found[person].append(row)
        return found

    def evidence(self, row: int) -> ev.Evidence:
        """Row ``row`` as the domain value ``decide`` reads (built without re-validation)."""
        c = self.columns
        kind = KINDS[int(c.kind[row])]
        values: dict[str, Any] = {
            "source_id": c.sources[int(c.source[row])],
            "record_id": self.record_id(row),
            "person": c.persons[int(c.person[row])],
            "area": str(int(c.area[row])),
            "occurred_at": from_micros(int(c.occurred_at[row])),
            "received_at": from_micros(int(c.received_at[row])),
            "kind": kind,
        }
        for name in ATTRIBUTES:
            code = int(getattr(c, name)[row])
            if code:
                values[name] = ATTRIBUTES[name][code - 1]
        if kind is ev.EvidenceKind.VENUE_VISIT:
            values["venue_id"] = c.venues[int(c.venue[row])]
        extra: dict[ev.EvidenceKind, dict[str, Any]] = {
            ev.EvidenceKind.VACCINATION: {"vaccine": "CoronaVac", "dose": 1},
            ev.EvidenceKind.BORDER_ENTRY: {"port": "PVG"},
            ev.EvidenceKind.CLOSE_CONTACT: {"case_ref": "case"},
        }
        values.update(extra.get(kind, {}))
        built: ev.Evidence = _CLASSES[kind].model_construct(**values)
        return built

    def inputs(self, people: NDArray[np.int64]) -> dict[int, StatusInputs]:
        """What ``decide`` reads for each of these people."""
        orders: dict[str, list[Order]] = {}
        for order in self.orders:
            orders.setdefault(order.person, []).append(order)
        return {
            person: StatusInputs(
                evidence=[self.evidence(row) for row in rows],
                orders=orders.get(self.columns.persons[person], []),
                designations=self.designations,
                set_asides=self.set_asides,
            )
            for person, rows in self.rows_of(people).items()
        }


_COLUMNS = (
    "person", "kind", "occurred_at", "received_at", "method", "result", "presence",
    "quarantine_required", "area", "venue", "source",
)  # fmt: skip


_CLASSES: dict[ev.EvidenceKind, type[Any]] = {
    ev.EvidenceKind.TEST_RESULT: ev.TestResult,
    ev.EvidenceKind.VACCINATION: ev.Vaccination,
    ev.EvidenceKind.BORDER_ENTRY: ev.BorderEntry,
    ev.EvidenceKind.VENUE_VISIT: ev.VenueVisit,
    ev.EvidenceKind.CLOSE_CONTACT: ev.CloseContact,
    ev.EvidenceKind.QUARANTINE_COMPLETED: ev.QuarantineCompleted,
    ev.EvidenceKind.RECOVERY: ev.Recovery,
}


class _Rows:
    """Columns under construction, one block per kind of record."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, NDArray[Any]]] = []

    def add(self, kind: ev.EvidenceKind, person: NDArray[Any], occurred: NDArray[Any],
            received: NDArray[Any], area: NDArray[Any] | int, source: NDArray[Any] | int,
            **attributes: NDArray[Any] | int) -> None:  # fmt: skip
        n = len(person)
        block: dict[str, NDArray[Any]] = {
            "person": person.astype(np.int32),
            "kind": np.full(n, KIND_CODE[kind], dtype=np.int8),
            "occurred_at": occurred.astype(np.int64),
            "received_at": received.astype(np.int64),
            "area": np.broadcast_to(np.asarray(area, dtype=np.int32), (n,)),
            "source": np.broadcast_to(np.asarray(source, dtype=np.int32), (n,)),
            "venue": np.broadcast_to(np.asarray(attributes.pop("venue", -1), np.int32), (n,)),
        }
        for name in ATTRIBUTES:
            value = attributes.pop(name, 0)
            block[name] = np.broadcast_to(np.asarray(value, dtype=np.int8), (n,))
        assert not attributes, attributes
        self.blocks.append(block)

    def column(self, name: str) -> NDArray[Any]:
        return np.concatenate([block[name] for block in self.blocks])


def generate(people: int, days: int = 30, *, seed: int = 2022, case_rate: float = 0.0025,
             second_visits: float = 0.0) -> City:  # fmt: skip
    """A city of ``people`` over ``days`` days (see the module docstring).

    ``second_visits``: the share of visits followed by a second one, one to five hours later
    (near home or anywhere, as first visits are). They are drawn from a random stream of their
    own, so the rest of the city is the same as without them (and the default, 0, draws
    nothing); close contacts and designations are drawn from first visits only.
    """
    rng = np.random.default_rng(seed)
    t0 = to_micros(START)
    end = t0 + days * DAY
    keys = np.unique(rng.integers(0, 2**63, size=(people, 2), dtype=np.int64), axis=0)
    while len(keys) < people:  # pragma: no cover - 128-bit collisions
        keys = np.unique(np.vstack([keys, rng.integers(0, 2**63, size=(1, 2))]), axis=0)
    persons = tuple(f"{a:016x}{b:016x}" for a, b in keys.tolist())
    districts = _districts()
    weights = np.where(districts // 10_000 == 41, 1.0, 0.35)
    home = rng.choice(districts, size=people, p=weights / weights.sum()).astype(np.int32)

    sources = [f"lab-{c[:4]}" for c in CITIES] + ["lab-3101"]
    sources += [f"scan-{c[:4]}" for c in CITIES] + ["scan-3101"]
    sources += ["cdc-41", "cdc-31", "border-pvg", "vaccine-registry", "scan-faulty"]
    source_ix = {name: i for i, name in enumerate(sources)}
    lab_of = np.array([source_ix[f"lab-{d // 100}"] for d in districts.tolist()], np.int32)
    scan_of = np.array([source_ix[f"scan-{d // 100}"] for d in districts.tolist()], np.int32)
    district_ix = np.searchsorted(districts, home)  # districts are sorted

    # Venues: one per 50 people, in districts as people live.
    venue_count = max(people // 50, 200)
    venue_area = np.sort(rng.choice(districts, size=venue_count, p=weights / weights.sum()))
    venue_area = venue_area.astype(np.int32)
    venues = tuple(f"v-{i:07d}" for i in range(venue_count))
    first_venue = np.searchsorted(venue_area, districts, side="left")
    last_venue = np.searchsorted(venue_area, districts, side="right")

    rows = _Rows()
    # Visits: about one a day; three in four near home.
    who, day = np.nonzero(rng.random((people, days), dtype=np.float32) < 0.93)
    n = len(who)
    d = district_ix[who]
    span = last_venue[d] - first_venue[d]
    near = (rng.random(n, dtype=np.float32) < 0.75) & (span > 0)
    venue = np.where(
        near,
        first_venue[d] + (rng.random(n) * np.maximum(span, 1)).astype(np.int64),
        rng.integers(0, venue_count, n),
    ).astype(np.int32)
    occurred = t0 + day.astype(np.int64) * DAY + 7 * HOUR + rng.integers(0, 14 * HOUR, n)
    received = occurred + rng.integers(0, 120_000_000, n)
    proven = np.where(rng.random(n, dtype=np.float32) < 0.95, 1, 2).astype(np.int8)
    scan = scan_of[np.searchsorted(districts, venue_area[venue])]
    faulty = rng.random(n, dtype=np.float32) < 0.0005
    scan = np.where(faulty, source_ix["scan-faulty"], scan).astype(np.int32)
    rows.add(ev.EvidenceKind.VENUE_VISIT, who, occurred, received, venue_area[venue], scan,
             venue=venue, presence=proven)  # fmt: skip
    if second_visits > 0:
        _second_visits(np.random.default_rng([seed, 1]), rows, second_visits, who, occurred,
                       district_ix, first_venue, last_venue, venue_area, scan_of, districts,
                       source_ix["scan-faulty"])  # fmt: skip
    visit_who, visit_venue, visit_day = who, venue, day
    del who, day, occurred, received, venue, proven, scan, near, d, span

    # Cases: a positive test, isolation, recovery twelve days later.
    cases = rng.choice(people, size=max(1, int(people * case_rate)), replace=False)
    positive_day = rng.integers(0, days, len(cases))
    sampled = t0 + positive_day * DAY + 8 * HOUR + rng.integers(0, 3 * HOUR, len(cases))
    reported = sampled + rng.integers(6 * HOUR, 30 * HOUR, len(cases))
    rows.add(ev.EvidenceKind.TEST_RESULT, cases, sampled, reported, home[cases],
             lab_of[district_ix[cases]], method=attribute_code("method", "pcr"),
             result=attribute_code("result", "positive"))  # fmt: skip
    recovered = positive_day + 12 < days
    recovery_at = sampled[recovered] + 12 * DAY
    rows.add(ev.EvidenceKind.RECOVERY, cases[recovered], recovery_at, recovery_at + 2 * HOUR,
             home[cases[recovered]], lab_of[district_ix[cases[recovered]]])  # fmt: skip
    isolation_end = np.where(recovered, sampled + 12 * DAY, sampled + 14 * DAY)

    # Weekly tests (one in five an antigen test), skipped by cases while they are ill.
    week_day = rng.integers(0, 7, people)
    tested, test_week = np.nonzero(week_day[:, None] + 7 * np.arange((days + 6) // 7) < days)
    test_day = week_day[tested] + 7 * test_week
    ill_from = np.full(people, days + 1)
    ill_from[cases] = positive_day
    ill_to = np.full(people, -1)
    ill_to[cases] = positive_day + 12
    keep = (test_day < ill_from[tested]) | (test_day >= ill_to[tested])
    tested, test_day = tested[keep], test_day[keep]
    n = len(tested)
    sampled_t = t0 + test_day * DAY + 8 * HOUR + rng.integers(0, 4 * HOUR, n)
    late = rng.random(n, dtype=np.float32) < 0.02  # some results come days later
    reported_t = sampled_t + rng.integers(4 * HOUR, 20 * HOUR, n) + late * 3 * DAY
    method = np.where(rng.random(n, dtype=np.float32) < 0.2, 2, 1).astype(np.int8)
    rows.add(ev.EvidenceKind.TEST_RESULT, tested, sampled_t, reported_t, home[tested],
             lab_of[district_ix[tested]], method=method,
             result=attribute_code("result", "negative"))  # fmt: skip
    del tested, test_day, sampled_t, reported_t, method, keep, late

    # Close contacts: up to a dozen people at the same venue on the same day as a case, in
    # the three days before the case's positive sample.
    orders: list[Order] = []
    case_of = np.full(people, -1, dtype=np.int64)
    case_of[cases] = np.arange(len(cases))
    case_rows = np.flatnonzero(case_of[visit_who] >= 0)
    before = positive_day[case_of[visit_who[case_rows]]] - visit_day[case_rows]
    case_rows = case_rows[(before >= 0) & (before <= 3)]
    slot = visit_venue.astype(np.int64) * days + visit_day  # (venue, day)
    case_slot, first = np.unique(slot[case_rows], return_index=True)
    slot_case = case_of[visit_who[case_rows[first]]]  # one case per (venue, day)
    met = np.flatnonzero(np.isin(slot, case_slot))
    met = met[np.argsort(slot[met], kind="stable")]
    which = np.searchsorted(case_slot, slot[met])
    rank = np.arange(len(met)) - np.searchsorted(slot[met], slot[met], side="left")
    met_case = slot_case[which]
    keep = (rank < 12) & (visit_who[met] != cases[met_case])
    met, met_case = met[keep], met_case[keep]
    contact = visit_who[met].astype(np.int64)
    exposure = t0 + visit_day[met].astype(np.int64) * DAY + 12 * HOUR
    trace = reported[met_case] + 3 * HOUR
    rows.add(ev.EvidenceKind.CLOSE_CONTACT, contact, exposure, trace, home[contact],
             np.where(home[contact] // 10_000 == 41, source_ix["cdc-41"], source_ix["cdc-31"]))  # fmt: skip
    completed = (rng.random(len(contact)) < 0.5) & (exposure + 14 * DAY < end)
    done_at = exposure[completed] + 14 * DAY
    rows.add(ev.EvidenceKind.QUARANTINE_COMPLETED, contact[completed], done_at,
             done_at + HOUR, home[contact[completed]], source_ix["cdc-41"])  # fmt: skip

    def order(kind: OrderKind, person: int, start: int, until: int, ended: int | None) -> None:
        orders.append(
            Order(
                id=f"o{len(orders)}",
                kind=kind,
                person=persons[person],
                valid_from=from_micros(start),
                valid_until=from_micros(until),
                recorded_at=from_micros(start),
                ended_at=None if ended is None else from_micros(ended),
                ended_recorded_at=None if ended is None else from_micros(ended),
            )
        )

    for case, start, until in zip(
        cases.tolist(), reported.tolist(), isolation_end.tolist(), strict=True
    ):
        order(OrderKind.CASE_ISOLATION, case, start, until, None)
    quarantined = rng.random(len(contact)) < 0.6
    early = rng.random(len(contact)) < 0.1
    for i in np.flatnonzero(quarantined).tolist():
        start, until = int(trace[i]), int(exposure[i]) + 14 * DAY
        order(OrderKind.CLOSE_CONTACT_QUARANTINE, int(contact[i]), start, until,
              start + 5 * DAY if early[i] else None)  # fmt: skip
        if rng.random() < 0.3:
            order(OrderKind.HOME_HEALTH_MONITORING, int(contact[i]), until, until + 7 * DAY, None)

    # Inbound travellers: most must quarantine (an order), most then complete it.
    travellers = rng.choice(people, size=max(1, people // 300), replace=False)
    entered = t0 + rng.integers(0, days * DAY, len(travellers))
    must = (rng.random(len(travellers)) < 0.85).astype(np.int8) + 1
    rows.add(ev.EvidenceKind.BORDER_ENTRY, travellers, entered, entered + HOUR, 310115,
             source_ix["border-pvg"], quarantine_required=must)  # fmt: skip
    for person, at, flag in zip(travellers.tolist(), entered.tolist(), must.tolist(), strict=True):
        if flag == 2:
            order(OrderKind.INBOUND_QUARANTINE, person, at + HOUR, at + 14 * DAY, None)
    finished = (must == 2) & (rng.random(len(travellers)) < 0.7) & (entered + 14 * DAY < end)
    done = entered[finished] + 14 * DAY
    rows.add(ev.EvidenceKind.QUARANTINE_COMPLETED, travellers[finished], done, done + HOUR,
             310115, source_ix["cdc-31"])  # fmt: skip

    vaccinated = rng.choice(people, size=people // 10, replace=False)
    jab = t0 + rng.integers(0, days * DAY, len(vaccinated))
    rows.add(ev.EvidenceKind.VACCINATION, vaccinated, jab, jab + HOUR, home[vaccinated],
             source_ix["vaccine-registry"])  # fmt: skip

    designations = designate_around_cases(rng, cases, positive_day, visit_who, visit_venue, visit_day,
                                          venue_area, venues, home, t0)  # fmt: skip
    del visit_who, visit_venue, visit_day, slot

    # Rows in the order they were received, as intake writes them.
    by_receipt = np.argsort(rows.column("received_at"), kind="stable")

    arrays = {name: rows.column(name)[by_receipt] for name in _COLUMNS}
    del by_receipt, rows
    column = arrays.pop

    columns = EvidenceColumns(
        persons=persons,
        person=column("person"),
        kind=column("kind"),
        occurred_at=column("occurred_at"),
        received_at=column("received_at"),
        method=column("method"),
        result=column("result"),
        presence=column("presence"),
        quarantine_required=column("quarantine_required"),
        area=column("area"),
        venue=column("venue"),
        source=column("source"),
        venues=venues,
        sources=tuple(sources),
    )
    set_asides, refs = appeals_upheld(rng, columns, days)
    columns = replace(columns, refs=refs, refs_complete=False)
    return City(columns, designations, orders, set_asides, START, from_micros(end), home)


def _second_visits(rng: np.random.Generator, rows: _Rows, share: float, who: NDArray[Any],
                   occurred: NDArray[Any], district_ix: NDArray[Any], first_venue: NDArray[Any],
                   last_venue: NDArray[Any], venue_area: NDArray[Any], scan_of: NDArray[Any],
                   districts: NDArray[Any], faulty_source: int) -> None:  # fmt: skip
    """A second visit after ``share`` of the first ones (see ``generate``)."""
    again = np.flatnonzero(rng.random(len(who), dtype=np.float32) < share)
    who = who[again]
    n = len(who)
    d = district_ix[who]
    span = last_venue[d] - first_venue[d]
    near = (rng.random(n, dtype=np.float32) < 0.75) & (span > 0)
    venue = np.where(
        near,
        first_venue[d] + (rng.random(n) * np.maximum(span, 1)).astype(np.int64),
        rng.integers(0, len(venue_area), n),
    ).astype(np.int32)
    at = occurred[again] + rng.integers(HOUR, 5 * HOUR, n)
    received = at + rng.integers(0, 120_000_000, n)
    proven = np.where(rng.random(n, dtype=np.float32) < 0.95, 1, 2).astype(np.int8)
    scan = scan_of[np.searchsorted(districts, venue_area[venue])]
    scan = np.where(rng.random(n, dtype=np.float32) < 0.0005, faulty_source, scan)
    rows.add(ev.EvidenceKind.VENUE_VISIT, who, at, received, venue_area[venue],
             scan.astype(np.int32), venue=venue, presence=proven)  # fmt: skip
