"""Evidence loaded as columns from the store (SQLite and PostgreSQL) is the stored evidence,
and the bulk evaluation over it gives every person what ``Derivation.status_at`` gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from healthcode.domain.bulk import evaluate
from healthcode.domain.bulk_columns import ATTRIBUTES, KINDS, EvidenceColumns
from healthcode.domain.bulk_plan import plan_load
from healthcode.domain.designations import RiskLevel
from healthcode.domain.status import SetAside
from healthcode.store import columns as columns_module
from healthcode.store import evidence as evidence_repo
from healthcode.store.columns import load_columns
from tests.town import ERQI, ZHENGZHOU, ZHONGYUAN, Town, days

PEOPLE = ("ann", "bo", "cai", "dan", "eve", "fu", "gao", "hu", "ivy")


@pytest.fixture
def people(town: Town) -> dict[str, str]:
    """A small town's week: visits (proven and not) under designations of an area and of a
    venue, tests, a case and its recovery, contacts, an inbound traveller."""
    keys = {name: town.person(name) for name in PEOPLE}
    t0 = town.clock.now()
    town.clock.advance(days=10)
    for n, name in enumerate(PEOPLE):
        venue = "station" if n % 2 else "market"
        town.visit(keys[name], t0 + days(1 + n % 4), venue=venue)
        town.visit(keys[name], t0 + days(2), venue=venue, presence="unverified")
        town.test(keys[name], t0 + days(n % 5), "negative" if n != 2 else "positive")
    town.test(keys["dan"], t0 + days(6), "negative")
    town.submit("lab-1", [town.record("recovery", keys["cai"], t0 + days(8))])
    town.submit("cdc-1", [
        town.record("close_contact", keys["eve"], t0 + days(3), case_ref="c1"),
        town.record("close_contact", keys["fu"], t0 + days(7), case_ref="c1"),
        town.record("quarantine_completed", keys["eve"], t0 + days(9)),
    ])  # fmt: skip
    town.submit("border-1", [
        town.record("border_entry", keys["gao"], t0 + days(5), port="PVG", quarantine_required=True),
        town.record("border_entry", keys["hu"], t0 + days(5), port="PVG", quarantine_required=False),
    ])  # fmt: skip
    town.designate(ERQI, RiskLevel.HIGH, t0 + days(2), t0 + days(4), id="d-station")
    town.designate(ZHONGYUAN, RiskLevel.MEDIUM, t0, None, id="d-market", venue="market")
    town.designate(ZHENGZHOU, RiskLevel.LOW, t0, None, id="d-low")
    return keys


def stored(town: Town) -> EvidenceColumns:
    """The stored evidence through the per-person repository, as columns."""
    with town.services.db.read() as conn:
        keys = [row[0] for row in conn.exec_driver_sql("SELECT DISTINCT person_key FROM evidence")]
        evidence = evidence_repo.evidence_for(conn, keys)
    return EvidenceColumns.from_evidence([item for items in evidence.values() for item in items])


def rows(columns: EvidenceColumns, coded: tuple[str, ...] | None = None) -> set[tuple[Any, ...]]:
    """Each row with its codes spelt out, to compare columns however they are ordered; with
    ``coded``, only those venues and no sources (what a plan codes)."""

    def venue(i: int) -> str | None:
        name = columns.venues[int(columns.venue[i])] if columns.venue[i] >= 0 else None
        return name if coded is None or name in coded else None

    def source(i: int) -> str | None:
        if coded is not None or columns.source[i] < 0:
            return None
        return columns.sources[int(columns.source[i])]

    return {
        (
            columns.persons[int(columns.person[i])],
            KINDS[int(columns.kind[i])],
            int(columns.occurred_at[i]),
            int(columns.received_at[i]),
            *(int(getattr(columns, name)[i]) for name in ATTRIBUTES),
            int(columns.area[i]),
            venue(i),
            source(i),
        )
        for i in range(len(columns))
    }


def test_loaded_columns_are_the_stored_rows(town: Town, people: dict[str, str]) -> None:
    expected = stored(town)
    with town.services.db.read() as conn:
        loaded = load_columns(conn, chunk=7)  # small chunks: several of them
    assert loaded.persons == tuple(sorted(people.values()))
    assert len(loaded) == len(expected) == 9 * 3 + 1 + 1 + 3 + 2
    assert rows(loaded) == rows(expected)
    assert loaded.codes_complete and loaded.plan is None


@pytest.mark.parametrize("since_days", [None, 0, 4])
def test_a_plan_loads_exactly_the_rows_it_keeps(
    town: Town, people: dict[str, str], since_days: int | None
) -> None:
    expected = stored(town)
    since = None if since_days is None else town.clock.now() + days(since_days)
    with town.services.db.read() as conn:
        designations = evidence_repo.all_designations(conn)
        rulebook = town.services.rulebooks.in_force(conn, town.clock.now())
        plan = plan_load(rulebook, designations, since=since)
        loaded = load_columns(conn, plan=plan, chunk=5)
    kept = expected.take(plan.keep(expected))
    assert 0 < len(loaded) < len(expected)
    assert loaded.venues == ("market",) and loaded.plan == plan
    assert rows(loaded, loaded.venues) == rows(kept, loaded.venues)


@pytest.mark.parametrize("by_name", [True, False])
def test_people_by_name_and_set_asides_resolved(
    town: Town, people: dict[str, str], by_name: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not by_name:  # many people: every row is read and the others' are dropped after
        monkeypatch.setattr(columns_module, "BY_NAME_LIMIT", 1)
    nobody = "f" * 32
    asked = [people["eve"], nobody, people["ann"]]
    with town.services.db.read() as conn:
        eve = evidence_repo.evidence_for(conn, [people["eve"]])[people["eve"]]
        contact = next(item for item in eve if str(item.kind) == "close_contact")
        asides = [
            SetAside(effective_at=town.clock.now(), evidence_ref=contact.ref),
            SetAside(effective_at=town.clock.now(), evidence_ref="lab-1/no-such-record"),
            SetAside(effective_at=town.clock.now(), source_id="revoked-source"),
        ]
        loaded = load_columns(conn, persons=asked, set_asides=asides)
    assert loaded.persons == tuple(asked)
    assert {loaded.persons[p] for p in loaded.person.tolist()} == {people["eve"], people["ann"]}
    row = loaded.refs[contact.ref]
    assert loaded.persons[int(loaded.person[row])] == people["eve"]
    assert KINDS[int(loaded.kind[row])] == "close_contact"
    assert loaded.refs["lab-1/no-such-record"] == -1
    assert "revoked-source" in loaded.sources


@pytest.mark.parametrize("with_plan", [True, False])
def test_bulk_over_loaded_columns_equals_status_at(
    town: Town, people: dict[str, str], with_plan: bool
) -> None:
    derivation = town.services.derivation
    keys = sorted(people.values())
    with town.services.db.read() as conn:
        inputs = derivation.inputs(conn, keys)
        designations = evidence_repo.all_designations(conn)
        orders = [order for i in inputs.values() for order in i.orders]
        set_asides = list(dict.fromkeys(a for i in inputs.values() for a in i.set_asides))
        rulebook = derivation_rulebook(town, conn)
        plan = plan_load(rulebook, designations, since=town.clock.now()) if with_plan else None
        columns = load_columns(conn, plan=plan, persons=keys, set_asides=set_asides)
        fired: set[str] = set()
        for at in instants(town):
            rulebook = town.services.rulebooks.in_force(conn, at)
            result = evaluate(columns, rulebook, at, designations=designations, orders=orders,
                              set_asides=set_asides)  # fmt: skip
            for i, key in enumerate(keys):
                status = derivation.status_at(conn, key, at)
                got = (result.colour_of(i), result.rule_id_of(i), result.valid_until_of(i))
                assert got == (status.colour, status.rule_id, status.valid_until), (key, at)
            fired |= {result.rule_id_of(i) for i in np.flatnonzero(result.rule >= 0)}
    assert len(fired) >= 3, fired  # the town exercises several rules, not only the default


def derivation_rulebook(town: Town, conn: Any) -> Any:
    return town.services.rulebooks.in_force(conn, town.clock.now())


def instants(town: Town) -> list[datetime]:
    now = town.clock.now()
    return [now, now + timedelta(hours=5), now + days(3), now + days(9), now + days(30)]


def test_set_aside_records_coded_alike_get_a_row_each(town: Town, people: dict[str, str]) -> None:
    """Two records coded exactly alike are the same to the evaluation: each named one still
    gets a row of its own, and one named alone gets one of the two."""
    ann, when = people["ann"], town.clock.now() - days(1)
    first, second, third = (town.record("test_result", ann, when, method="pcr", result="positive")
                            for _ in range(3))  # fmt: skip
    town.submit("lab-1", [first, second, third])
    refs = [f"lab-1/{record['record_id']}" for record in (first, second)]
    asides = [SetAside(effective_at=town.clock.now(), evidence_ref=ref) for ref in refs]
    with town.services.db.read() as conn:
        for plan in (None, plan_load(derivation_rulebook(town, conn), [])):
            loaded = load_columns(conn, plan=plan, persons=[ann], set_asides=asides)
            rows = sorted(loaded.refs.values())
            assert len(set(rows)) == 2 and min(rows) >= 0
            assert {KINDS[int(loaded.kind[row])] for row in rows} == {"test_result"}
            result = evaluate(loaded, derivation_rulebook(town, conn), town.clock.now(),
                              set_asides=asides)  # fmt: skip
            assert result.key_of(0)[1] == "confirmed-case"  # the third still counts
            alone = load_columns(conn, plan=plan, persons=[ann], set_asides=asides[:1])
            assert alone.refs[refs[0]] >= 0
