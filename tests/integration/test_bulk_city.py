"""On every person of a generated city, on SQLite and on PostgreSQL, the bulk evaluation gives
exactly the per-person answer, and a bulk recompute records what the per-person path would."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from healthcode.domain.bulk import evaluate
from healthcode.domain.designations import RiskLevel
from healthcode.services.bulk_recompute import changing, everyone
from healthcode.services.clock import FixedClock
from healthcode.services.designations import DesignationRequest
from healthcode.sim.city import build_city
from healthcode.sim.geography import DISTRICTS, authority_of
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store.columns import load_columns
from healthcode.store.database import Database
from tests.conftest import make_services


def test_bulk_equals_per_person_for_everyone(
    database: Database, clock: FixedClock, tmp_path: Path
) -> None:
    services = make_services(database, clock, tmp_path / "data")
    build_city(services, people=500, seed=11, days=12)
    for at in (clock.now(), clock.now() + timedelta(days=3), clock.now() + timedelta(days=9)):
        with database.read() as conn:
            keys = everyone(conn)
            rulebook = services.rulebooks.in_force(conn, at)
            designations = evidence_repo.all_designations(conn)
            set_asides = set_aside_repo.all_set_asides(conn)
            orders = [
                o
                for s in orders_repo.for_people(conn, keys).values()
                for o in (x.as_input() for x in s)
                if o
            ]
            bulk = evaluate(load_columns(conn, persons=keys, set_asides=set_asides), rulebook, at,
                            designations=designations, orders=orders, set_asides=set_asides)  # fmt: skip
            differences = []
            for position, key in enumerate(bulk.persons):
                one = services.derivation.status_at(conn, key, at)
                if (bulk.key_of(position), bulk.valid_until_of(position)) != (
                    one.key,
                    one.valid_until,
                ):
                    differences.append(key)
        assert len(bulk) == len(keys) > 400
        assert differences == []
        assert {bulk.colour_of(i) for i in range(len(bulk))} >= {"green", "yellow"}
    with database.read() as conn:  # stored statuses are exactly what the bulk path finds
        assert changing(conn, services.rulebooks, everyone(conn), clock.now()) == []


def test_a_designation_is_applied_by_the_bulk_path(
    database: Database, clock: FixedClock, tmp_path: Path
) -> None:
    services = make_services(database, clock, tmp_path / "data")
    build_city(services, people=400, seed=5, days=8)
    district = DISTRICTS[0][0]
    changes = services.designations.designate(
        DesignationRequest(id="d-bulk", area=district, level=RiskLevel.HIGH, valid_from=clock.now() - timedelta(days=5),
                           valid_to=None, authority_id=authority_of(district), case_count=9, basis="9 cases"),
        now=clock.now(),
    )  # fmt: skip
    assert changes > 0
    with database.read() as conn:
        assert changing(conn, services.rulebooks, everyone(conn), clock.now()) == []
    assert services.self_check.run(now=clock.now()).ok
