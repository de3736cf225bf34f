"""The oversight fixture's acts: orders citing their evidence, designations and appeals
(see ``bench.oversight_city`` for what each holds)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.city_frame import DAY, HOUR, START, record_id
from bench.oversight_city import (
    BASIS,
    KIND,
    MINUTE,
    PORT_AREA,
    POSITIVE,
    Fixture,
    Params,
    authority_of_city,
    city4_of,
)
from healthcode.domain.bulk_columns import to_micros
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.orders import OrderKind
from healthcode.store import tables as t


def add_orders(fixture: Fixture, rng: np.random.Generator, officials: dict[str, list[str]],
            counter: Iterator[int], planted: dict[str, Any]) -> None:  # fmt: skip
    city, c = fixture.city, fixture.city.columns
    index = {key: i for i, key in enumerate(c.persons)}
    # The evidence each kind of order cites, by (person, instant).
    cited: dict[tuple[str, int, int], list[int]] = defaultdict(list)

    def by(tag: str, rows: NDArray[Any], instants: NDArray[Any]) -> None:
        for row, person, at in zip(rows.tolist(), c.person[rows].tolist(), instants.tolist(),
                                   strict=True):  # fmt: skip
            cited[(tag, person, at)].append(row)

    planted_rows = set(planted["a1_rows"].tolist())
    positive = np.flatnonzero((c.kind == KIND[EvidenceKind.TEST_RESULT]) & (c.result == POSITIVE))
    contact = np.flatnonzero(c.kind == KIND[EvidenceKind.CLOSE_CONTACT])
    contact = contact[~np.isin(contact, planted["a1_rows"])]
    border = np.flatnonzero(c.kind == KIND[EvidenceKind.BORDER_ENTRY])
    by("isolation", positive, c.received_at[positive])
    by("quarantine", contact, c.received_at[contact])
    by("monitoring", contact, c.occurred_at[contact] + 14 * DAY)
    by("inbound", border, c.occurred_at[border] + HOUR)
    tag = {OrderKind.CASE_ISOLATION: "isolation", OrderKind.CLOSE_CONTACT_QUARANTINE: "quarantine",
           OrderKind.HOME_HEALTH_MONITORING: "monitoring",
           OrderKind.INBOUND_QUARANTINE: "inbound"}  # fmt: skip
    used: dict[tuple[str, int, int], int] = defaultdict(int)
    at = to_micros(city.at)
    previous: tuple[str, int] | None = None  # the last quarantine order: person, recorded
    for order in city.orders:
        person = index[order.person]
        start = to_micros(order.valid_from)
        recorded = to_micros(order.recorded_at)
        if order.kind is OrderKind.CLOSE_CONTACT_QUARANTINE:
            previous = (order.person, recorded)
        elif (
            order.kind is OrderKind.HOME_HEALTH_MONITORING
            and previous is not None
            and (previous[0] == order.person)
        ):  # issued with the quarantine it follows (the generator records it at its start)
            recorded = previous[1]
        if order.kind is OrderKind.INBOUND_QUARANTINE:
            authority = authority_of_city(str(PORT_AREA)[:4])
        else:
            authority = authority_of_city(city4_of(int(city.home[person])))
        badges = officials[authority]
        request = f"req-{authority[3:]}-{recorded}"
        official = badges[int(hashlib.blake2b(request.encode(), digest_size=4).hexdigest(), 16)
                          % len(badges)]  # fmt: skip
        key = (tag[order.kind], person, start)
        rows = cited.get(key, [])
        row = rows[min(used[key], len(rows) - 1)] if rows else None
        used[key] += 1
        if recorded >= at:  # not issued yet at the end of the period
            continue
        _order_row(fixture, counter, order_id=f"ord-{order.id[1:]}", request_id=request,
                   authority=authority, official=official, kind=order.kind,
                   person=order.person, valid_from=start,
                   valid_until=to_micros(order.valid_until), recorded=recorded,
                   ended=None if order.ended_at is None else to_micros(order.ended_at),
                   cites=None if row is None else row, at=at)  # fmt: skip
    # A1: the burst, one official, one day, requests of twenty, co-signed by the supervisor.
    rows = sorted(planted_rows)
    for n, row in enumerate(rows):
        recorded = int(c.received_at[row]) + int(rng.integers(MINUTE, 30 * MINUTE))
        _order_row(fixture, counter, order_id=f"ord-a1-{n:05d}", request_id=f"req-a1-{n // 20}",
                   authority="hc-4101", official=planted["a1_official"],
                   kind=OrderKind.CLOSE_CONTACT_QUARANTINE, person=c.persons[int(c.person[row])],
                   valid_from=recorded, valid_until=int(c.occurred_at[row]) + 14 * DAY,
                   recorded=recorded, ended=None, cites=row, at=at,
                   cosigned_by="sup-4101")  # fmt: skip
    fixture.planted["orders"] = len(fixture.rows[t.orders.name])


def _order_row(fixture: Fixture, counter: Iterator[int], *, order_id: str, request_id: str,
               authority: str, official: str, kind: OrderKind, person: str, valid_from: int,
               valid_until: int, recorded: int, ended: int | None, cites: int | None, at: int,
               cosigned_by: str | None = None) -> None:  # fmt: skip
    row: dict[str, Any] = {
        "id": order_id, "request_id": request_id, "authority_id": authority,
        "official_id": official, "kind": str(kind), "legal_basis": BASIS[kind],
        "person_key": person, "valid_from": valid_from, "valid_until": valid_until,
        "status": "active", "recorded_at": recorded, "activated_at": recorded,
        "cosigned_by": cosigned_by, "cosign_log_index": None if cosigned_by is None else next(counter),
        "extends": None, "ended_at": None, "ended_recorded_at": None, "end_reason": None,
        "ended_by": None, "end_log_index": None, "log_index": next(counter),
    }  # fmt: skip
    if ended is not None and ended <= at:
        row.update(status="ended", ended_at=ended, ended_recorded_at=ended,
                   end_reason="no_longer_needed", ended_by=official,
                   end_log_index=next(counter))  # fmt: skip
    fixture.add(t.orders, row)
    if cites is not None:
        c = fixture.city.columns
        fixture.add(t.order_evidence, {
            "order_id": order_id, "source_id": c.sources[int(c.source[cites])],
            "record_id": record_id(cites), "person_key": person,
        })  # fmt: skip


def add_designations(fixture: Fixture, params: Params, rng: np.random.Generator,
                  officials: dict[str, list[str]], counter: Iterator[int]) -> None:  # fmt: skip
    c = fixture.city.columns
    for n, d in enumerate(fixture.city.designations):
        authority = authority_of_city(d.area[:4])
        badges = officials[authority]
        _designation_row(fixture, counter, id=d.id, area=d.area, venue=d.venue_id,
                         level=str(d.level), valid_from=to_micros(d.valid_from),
                         valid_to=None if d.valid_to is None else to_micros(d.valid_to),
                         authority=authority, official=badges[n % len(badges)],
                         case_count=d.case_count, recorded=to_micros(d.recorded_at))  # fmt: skip
    # A burst of venue designations by one official on one day, citing five cases each.
    venues = {row["id"]: row["area_code"] for row in fixture.rows[t.venues.name]}
    in_city = sorted(v for v, area in venues.items() if area.startswith("4102"))
    chosen = rng.choice(len(in_city), size=min(12, len(in_city)), replace=False)
    day = to_micros(START) + (params.days // 2) * DAY
    for n, which in enumerate(sorted(chosen.tolist())):
        venue = in_city[which]
        recorded = day + 10 * HOUR + n * 5 * MINUTE
        _designation_row(fixture, counter, id=f"d-burst-{n}", area=venues[venue], venue=venue,
                         level="high", valid_from=recorded, valid_to=recorded + 14 * DAY,
                         authority="hc-4102", official=officials["hc-4102"][0], case_count=5,
                         recorded=recorded)  # fmt: skip
    del c
    fixture.planted["designations"] = len(fixture.rows[t.designations.name])


def _designation_row(fixture: Fixture, counter: Iterator[int], *, id: str, area: str,
                     venue: str | None, level: str, valid_from: int, valid_to: int | None,
                     authority: str, official: str, case_count: int,
                     recorded: int) -> None:  # fmt: skip
    fixture.add(t.designations, {
        "id": id, "area_code": area, "venue_id": venue, "level": level,
        "valid_from": valid_from, "valid_to": valid_to, "authority_id": authority,
        "case_count": case_count, "basis": "cases", "recorded_at": recorded,
        "log_index": next(counter), "designated_by": official, "activated_at": recorded,
        "cosigned_by": None, "cosign_log_index": None,
    })  # fmt: skip


_GROUNDS = ("not_there", "not_mine", "evidence_wrong", "order_expired")
# upheld, corrected, overturned, lapsed: most appeals are answered and upheld
_OUTCOMES = ("upheld", "corrected", "overturned", "lapsed")
_OUTCOME_P = (0.75, 0.08, 0.12, 0.05)


def add_appeals(fixture: Fixture, params: Params, rng: np.random.Generator,
             officials: dict[str, list[str]], counter: Iterator[int],
             planted: dict[str, Any]) -> None:  # fmt: skip
    at = to_micros(fixture.city.at)
    orders = fixture.rows[t.orders.name]
    planted_ids = {f"ord-a1-{n:05d}" for n in range(len(planted["a1_rows"]))}
    natural = [o for o in orders if o["id"] not in planted_ids]
    appealed = rng.choice(len(natural), size=max(1, len(natural) * 3 // 100), replace=False)
    for n, which in enumerate(sorted(appealed.tolist())):
        order = natural[which]
        outcome = _OUTCOMES[int(rng.choice(4, p=_OUTCOME_P))]
        _appeal_row(fixture, counter, rng, n=n, order=order, outcome=outcome, at=at,
                    officials=officials)  # fmt: skip
    # The A1 victims appeal; the authority lets most appeals lapse.
    victims = [o for o in orders if o["id"] in planted_ids]
    for n, which in enumerate(sorted(rng.choice(len(victims), size=max(8, len(victims) * 3 // 10),
                                                replace=False).tolist())):  # fmt: skip
        outcome = "lapsed" if rng.random() < 0.6 else "upheld"
        _appeal_row(fixture, counter, rng, n=n, order=victims[which], outcome=outcome, at=at,
                    officials=officials, prefix="apl-a1")  # fmt: skip
    # The evidence the generator sets aside, each on an appeal overturned.
    sources = {row["id"]: row["authority_id"] for row in fixture.rows[t.sources.name]}
    for n, aside in enumerate(a for a in fixture.city.set_asides if a.evidence_ref):
        assert aside.evidence_ref is not None and aside.person is not None
        assert aside.recorded_at is not None
        source_id, record = aside.evidence_ref.split("/", 1)
        decided = to_micros(aside.recorded_at)
        filed = decided - DAY
        fixture.add(t.appeals, {
            "id": f"apl-ev-{n:04d}", "person_key": aside.person, "filed_by": aside.person,
            "target": "evidence", "order_id": None, "source_id": source_id,
            "record_id": record, "colour": None, "rule_id": None, "ground": "not_mine",
            "text": None, "authority_id": sources[source_id], "filed_at": filed,
            "deadline": filed + 48 * HOUR, "log_index": next(counter), "status": "overturned",
            "answered_at": decided, "answered_by": officials[sources[source_id]][0],
            "ends_at": None, "replacement_order_id": None, "answer_log_index": next(counter),
            "lapsed_at": None, "lapse_log_index": None,
        })  # fmt: skip
    fixture.planted["appeals"] = len(fixture.rows[t.appeals.name])


def _appeal_row(fixture: Fixture, counter: Iterator[int], rng: np.random.Generator, *, n: int,
                order: dict[str, Any], outcome: str, at: int, officials: dict[str, list[str]],
                prefix: str = "apl") -> None:  # fmt: skip
    filed = order["recorded_at"] + int(rng.integers(2 * HOUR, 48 * HOUR))
    if filed >= at:
        return
    deadline = filed + 24 * HOUR
    row: dict[str, Any] = {
        "id": f"{prefix}-{n:06d}", "person_key": order["person_key"],
        "filed_by": order["person_key"], "target": "order", "order_id": order["id"],
        "source_id": None, "record_id": None, "colour": None, "rule_id": None,
        "ground": _GROUNDS[int(rng.integers(0, len(_GROUNDS)))], "text": None,
        "authority_id": order["authority_id"], "filed_at": filed, "deadline": deadline,
        "log_index": next(counter), "status": "open", "answered_at": None, "answered_by": None,
        "ends_at": None, "replacement_order_id": None, "answer_log_index": None,
        "lapsed_at": None, "lapse_log_index": None,
    }  # fmt: skip
    if outcome == "lapsed":
        if deadline < at:
            row.update(status="lapsed", lapsed_at=deadline, lapse_log_index=next(counter))
    else:
        answered = filed + int(rng.integers(HOUR, 20 * HOUR))
        if answered < at:
            row.update(status=outcome, answered_at=answered, answer_log_index=next(counter),
                       answered_by=officials[order["authority_id"]][0])  # fmt: skip
            if outcome == "corrected":
                row["ends_at"] = max(answered, order["valid_until"] - 3 * DAY)
    fixture.add(t.appeals, row)
