"""The oversight benchmark's city: the recompute city (``bench.city``) with a second visit after
some first ones, and the rows the detectors read that the recompute fixture lacks.

On top of ``bench.city.generate`` (with ``second_visits``, so a city of 1,000,000 people over
30 days has more than 30,000,000 venue visits):

* authorities (one health commission per city, one per province), their officials and
  supervisors (``staff``), the evidence sources with their areas, every venue;
* households of one to five people of one district (``households``);
* the generator's orders (case isolation, close-contact and inbound quarantine, home
  monitoring, recorded with the quarantine it follows; none recorded after the period) as
  ``orders`` rows, each issued by an official of the person's city (inbound
  quarantine: of the port's), the orders of one request by one official, each citing its
  evidence in ``order_evidence``; close contacts name their case (``case_ref``: the case's
  positive test);
* the generator's designations, each by an official of the area's city;
* appeals against about 3 % of the orders (upheld, corrected, overturned, lapsed or still
  open), and the evidence appeals the generator sets aside (overturned);
* a few planted abuses, so that every detector has something to find and its second,
  per-suspect queries run: a burst of quarantine orders by one official on one day citing
  fabricated close-contact evidence about people from other cities (A1, 1,317 people at full
  size), most of whose appeals that authority lets lapse; a forwarded place code scanned from
  other cities (A2); negative tests by one lab about people who neither live in nor visited
  its city; a burst of venue designations citing cases nobody had.

The transparency log is not the point of this benchmark: nothing is appended to it, and the
``log_index`` columns (unique) are filled with distinct numbers from one counter.

``bench.oversight_store`` writes it into a SQLite file with the project's schema (``create_all``),
by bulk inserts with the secondary indexes dropped for the load and built after (as
``bench.sqlite_city`` does, whose evidence rows and canonical bytes it reuses), cached under
``BENCH_CACHE`` (default ``/tmp/healthcode-bench``) keyed by the parameters, this module's
version and the schema. ``load_postgres`` copies that file into a PostgreSQL schema with
``COPY`` (the evidence table's primary key and indexes built after the load, then
``VACUUM ANALYZE``, the state autovacuum reaches on its own), so both backends hold the same
rows. The SQLite file is not analysed: the application never runs ``ANALYZE`` on it.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Table

from bench import sqlite_city
from bench.city import City
from bench.city_frame import CITIES, DAY, HOUR, START
from healthcode.domain.bulk_columns import KIND_CODE, attribute_code, to_micros
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.orders import OrderKind
from healthcode.store import tables as t

VERSION = 2  # of this module's rows: bump when what it writes changes
SECOND_VISITS = 0.15  # a second visit after 15 % of first ones: ~1.07 visits a person a day
CACHE = sqlite_city.CACHE
MINUTE = 60_000_000
CHUNK = 50_000

# Every table the fixture fills, in an order their foreign keys allow.
TABLES: tuple[Table, ...] = (
    t.areas, t.authorities, t.authority_areas, t.sources, t.venues, t.persons, t.staff,
    t.households, t.designations, t.evidence, t.orders, t.order_evidence, t.appeals,
)  # fmt: skip

KIND = {kind: KIND_CODE[kind] for kind in EvidenceKind}
POSITIVE = attribute_code("result", "positive")
NEGATIVE = attribute_code("result", "negative")
PROVEN = attribute_code("presence", "proven")
UNVERIFIED = attribute_code("presence", "unverified")
BASIS = {
    OrderKind.CASE_ISOLATION: "idl-art-39-isolation",
    OrderKind.CLOSE_CONTACT_QUARANTINE: "idl-art-41-quarantine",
    OrderKind.INBOUND_QUARANTINE: "idl-art-41-quarantine",
    OrderKind.HOME_HEALTH_MONITORING: "ephr-art-44-monitoring",
}
PORT_AREA = 310115  # the generator's border entries are at Pudong


@dataclass(frozen=True)
class Params:
    people: int = 1_000_000
    days: int = 30
    seed: int = 2022
    second_visits: float = SECOND_VISITS

    def key(self) -> dict[str, Any]:
        return {"people": self.people, "days": self.days, "seed": self.seed,
                "second_visits": self.second_visits}  # fmt: skip

    @property
    def now(self) -> datetime:
        """The end of the generated period: the detectors look at the ``days`` before it."""
        return START + timedelta(days=self.days)


@dataclass
class Fixture:
    """The city (with the planted evidence appended) and every other table's rows."""

    city: City
    case_refs: dict[int, str]  # evidence row -> its close contact's case_ref
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> rows
    planted: dict[str, Any] = field(default_factory=dict)  # what was planted, for the report

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self.rows.setdefault(table.name, []).append(row)


# --- building ------------------------------------------------------------------------------


def authority_of_city(city4: str) -> str:
    return f"hc-{city4}"


def official_id(city4: str, n: int) -> str:
    return f"off-{city4}-{n:02d}"


def city4_of(district: int) -> str:
    return str(district // 100)


def add_authorities_staff_sources(fixture: Fixture, city: City) -> dict[str, list[str]]:
    """Authorities, their areas and officials; sources; venues. Returns officials by
    authority (a supervisor is the last of each list's ``sup-`` twin)."""
    c = city.columns
    registered = to_micros(START) - 30 * DAY
    cities = [*CITIES, "310100"]
    by_city: dict[str, int] = defaultdict(int)
    for district, count in zip(*np.unique(city.home, return_counts=True), strict=True):
        by_city[city4_of(int(district))] += int(count)
    officials: dict[str, list[str]] = {}
    authorities = [(authority_of_city(x[:4]), x, f"{x[:4]}市卫健委", f"Health commission {x[:4]}")
                   for x in cities]  # fmt: skip
    authorities += [("hc-41", "410000", "河南省卫健委", "Henan health commission"),
                    ("hc-31", "310000", "上海市卫健委", "Shanghai health commission")]  # fmt: skip
    for authority, area, zh, en in authorities:
        fixture.add(t.authorities, {"id": authority, "name_zh": zh, "name_en": en})
        fixture.add(t.authority_areas, {"authority_id": authority, "area_code": area})
        count = max(2, -(-by_city.get(area[:4], 0) // 10_000))  # one per 10,000 residents
        badges = [official_id(area[:4] if area.endswith("00") and not area.endswith("0000")
                              else area[:2], n) for n in range(1, count + 1)]  # fmt: skip
        officials[authority] = badges
        for badge in badges:
            fixture.add(t.staff, {"id": badge, "role": "official", "authority_id": authority,
                                  "area_code": None, "name": f"官员 {badge}",
                                  "password_hash": None, "active": True,
                                  "registered_at": registered})  # fmt: skip
        supervisor = "sup-" + badges[0][4:-3]
        fixture.add(t.staff, {"id": supervisor, "role": "supervisor", "authority_id": authority,
                              "area_code": None, "name": f"主管 {supervisor}",
                              "password_hash": None, "active": True,
                              "registered_at": registered})  # fmt: skip
    # zz-health (the generator's venues and designations' authority) comes with the areas.
    for source in c.sources:
        if source.startswith(("lab-", "scan-")) and source != "scan-faulty":
            city4 = source.split("-")[1]
            authority, area = authority_of_city(city4), f"{city4}00"
        else:
            authority, area = {
                "cdc-41": ("hc-41", "410000"), "cdc-31": ("hc-31", "310000"),
                "border-pvg": ("hc-3101", str(PORT_AREA)),
                "vaccine-registry": ("hc-41", "410000"), "scan-faulty": ("hc-4101", "410100"),
            }[source]  # fmt: skip
        kinds = {"lab": "recovery test_result", "scan": "venue_visit",
                 "cdc": "close_contact quarantine_completed", "border": "border_entry",
                 "vaccine": "vaccination"}[source.split("-")[0]]  # fmt: skip
        fixture.add(t.sources, {"id": source, "authority_id": authority, "name": source,
                                "public_key": hashlib.sha256(source.encode()).digest(),
                                "kinds": kinds, "area_code": area, "active": True,
                                "registered_at": registered})  # fmt: skip
    visits = c.kind == KIND[EvidenceKind.VENUE_VISIT]
    venue_area = np.zeros(len(c.venues), dtype=np.int64)
    venue_area[c.venue[visits]] = c.area[visits]
    for venue, area in zip(c.venues, venue_area.tolist(), strict=True):
        if area:  # a venue nobody visited has no known area: not registered
            fixture.add(t.venues, {"id": venue, "name_zh": f"场所{venue}", "name_en": venue,
                                   "area_code": str(area),
                                   "authority_id": authority_of_city(city4_of(area))})  # fmt: skip
    return officials


def add_households(fixture: Fixture, city: City, rng: np.random.Generator) -> None:
    """People of one district in households of 1 to 5."""
    people = len(city.home)
    order = np.argsort(city.home, kind="stable")
    sizes = rng.choice(np.arange(1, 6), size=people, p=[0.25, 0.3, 0.2, 0.15, 0.1])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    starts = starts[starts < people]
    district_starts = np.flatnonzero(np.diff(city.home[order], prepend=-1))
    starts = np.union1d(starts, district_starts)
    household = np.searchsorted(starts, np.arange(people), side="right") - 1
    persons = city.columns.persons
    fixture.rows[t.households.name] = [
        {"person_key": persons[p], "household_id": f"h{h:07d}"}
        for p, h in zip(order.tolist(), household.tolist(), strict=True)
    ]


def _append_evidence(fixture: Fixture, **columns: Any) -> NDArray[np.int64]:
    """Append rows to the city's evidence columns; their row numbers."""
    c = fixture.city.columns
    n = len(columns["person"])
    defaults: dict[str, Any] = {"method": 0, "result": 0, "presence": 0,
                                "quarantine_required": 0, "venue": -1}  # fmt: skip
    merged = {}
    for name in ("person", "kind", "occurred_at", "received_at", "method", "result", "presence",
                 "quarantine_required", "area", "venue", "source"):  # fmt: skip
        old = getattr(c, name)
        new = np.broadcast_to(np.asarray(columns.get(name, defaults.get(name)), old.dtype), (n,))
        merged[name] = np.concatenate([old, new])
    fixture.city = replace(fixture.city, columns=replace(c, **merged))
    return np.arange(len(c), len(c) + n)


def plant_evidence(fixture: Fixture, params: Params, rng: np.random.Generator,
                    officials: dict[str, list[str]]) -> dict[str, Any]:  # fmt: skip
    """The planted evidence (see the module docstring); what orders and appeals need of it."""
    city, c = fixture.city, fixture.city.columns
    t0 = to_micros(START)
    source = {name: i for i, name in enumerate(c.sources)}
    home_city = city.home // 100
    people = len(city.home)
    # A1: close-contact records about people from other cities, traced by the province's
    # tracing team to a Zhengzhou district none of them was in, on one day.
    burst_day = params.days * 2 // 3
    count = min(1_317, max(30, people // 50))
    victims = np.sort(rng.choice(np.flatnonzero(home_city != 4101), size=count, replace=False))
    exposure = t0 + (burst_day - 1) * DAY + 12 * HOUR
    traced = t0 + burst_day * DAY + 9 * HOUR + np.sort(rng.integers(0, 3 * HOUR, count))
    contact_rows = _append_evidence(
        fixture, person=victims, kind=np.int8(KIND[EvidenceKind.CLOSE_CONTACT]),
        occurred_at=np.full(count, exposure), received_at=traced, area=np.int32(410105),
        source=np.int32(source["cdc-41"]),
    )  # fmt: skip
    fixture.planted["a1_people"] = count
    # A2: one Zhengzhou venue's place code scanned, unverified, by people of other cities who
    # scanned at home within the hour before.
    c = fixture.city.columns
    visits = np.flatnonzero(c.kind == KIND[EvidenceKind.VENUE_VISIT])
    zhengzhou = visits[c.area[visits] // 100 == 4101]
    venue = int(np.bincount(c.venue[zhengzhou]).argmax())  # a busy venue
    scanners = np.sort(rng.choice(np.flatnonzero(home_city != 4101),
                                  size=min(300, max(20, people // 3_000)), replace=False))  # fmt: skip
    n = len(scanners)
    at = t0 + (params.days * 3 // 4) * DAY + 14 * HOUR + rng.integers(0, HOUR, n)
    before = at - rng.integers(5 * MINUTE, 50 * MINUTE, n)
    home = city.home[scanners]
    home_venue = _venue_in(c, visits, home, rng)
    scan_of_city = {name.split("-")[1]: i for name, i in source.items()
                    if name.startswith("scan-") and name != "scan-faulty"}  # fmt: skip
    _append_evidence(
        fixture, person=np.concatenate([scanners, scanners]),
        kind=np.int8(KIND[EvidenceKind.VENUE_VISIT]),
        occurred_at=np.concatenate([at, before]),
        received_at=np.concatenate([at, before]) + 30_000_000,
        presence=np.concatenate([np.full(n, UNVERIFIED), np.full(n, PROVEN)]),
        area=np.concatenate([np.full(n, int(c.area[zhengzhou][c.venue[zhengzhou] == venue][0])),
                             home]),
        venue=np.concatenate([np.full(n, venue), home_venue]),
        source=np.concatenate([np.full(n, source["scan-4101"]),
                               [scan_of_city[str(h // 100)] for h in home.tolist()]]),
    )  # fmt: skip
    fixture.planted["a2_venue"], fixture.planted["a2_scans"] = c.venues[venue], n
    # Negative tests by the Luohe... (4117) lab about Shanghai residents never in its city.
    c = fixture.city.columns
    was_there = np.zeros(people, dtype=np.bool_)
    was_there[c.person[visits][c.area[visits] // 100 == 4117]] = True
    outsiders = np.flatnonzero((home_city == 3101) & ~was_there)
    n = min(len(outsiders), 50, max(8, people // 20_000))
    tested = np.sort(rng.choice(outsiders, size=n, replace=False))
    sampled = t0 + rng.integers(1, params.days - 1, n) * DAY + 9 * HOUR
    _append_evidence(
        fixture, person=tested, kind=np.int8(KIND[EvidenceKind.TEST_RESULT]),
        occurred_at=sampled, received_at=sampled + 8 * HOUR, method=np.int8(1),
        result=np.int8(NEGATIVE), area=np.int32(411702), source=np.int32(source["lab-4117"]),
    )  # fmt: skip
    fixture.planted["outside_tests"] = n
    case_ref = "zz-bank-0613"
    for row in contact_rows.tolist():
        fixture.case_refs[row] = case_ref
    return {"a1_rows": contact_rows, "a1_official": officials["hc-4101"][-1],
            "a1_day": burst_day}  # fmt: skip


def _venue_in(c: Any, visits: NDArray[Any], districts: NDArray[Any],
              rng: np.random.Generator) -> NDArray[np.int32]:  # fmt: skip
    """A venue of each of these districts (one visited there)."""
    areas, first = np.unique(c.area[visits], return_index=True)
    venue_of_area = c.venue[visits][first]
    found = np.searchsorted(areas, districts)
    found = np.minimum(found, len(areas) - 1)
    return np.where(areas[found] == districts, venue_of_area[found],
                    rng.integers(0, len(c.venues), len(districts))).astype(np.int32)  # fmt: skip


def name_cases(fixture: Fixture) -> None:
    """Each generated close contact names its case: the case's positive test, reported three
    hours before the contact was traced (the generator traces a case's contacts together)."""
    c = fixture.city.columns
    positive = np.flatnonzero((c.kind == KIND[EvidenceKind.TEST_RESULT]) & (c.result == POSITIVE))
    positive = positive[np.argsort(c.received_at[positive], kind="stable")]
    reported = c.received_at[positive]
    contacts = np.flatnonzero(c.kind == KIND[EvidenceKind.CLOSE_CONTACT])
    found = np.searchsorted(reported, c.received_at[contacts] - 3 * HOUR)
    found = np.minimum(found, len(reported) - 1)
    hit = reported[found] == c.received_at[contacts] - 3 * HOUR
    for row, ok, case in zip(contacts.tolist(), hit.tolist(), positive[found].tolist(),
                             strict=True):  # fmt: skip
        if row not in fixture.case_refs:
            fixture.case_refs[row] = fixture.city.ref(case) if ok else "case"


def params_from_env() -> Params:
    from bench.harness import env_int

    return Params(
        people=env_int("BENCH_OVERSIGHT_PEOPLE", 1_000_000),
        days=env_int("BENCH_OVERSIGHT_DAYS", 30),
        second_visits=float(os.environ.get("BENCH_OVERSIGHT_SECOND_VISITS", SECOND_VISITS)),
    )
