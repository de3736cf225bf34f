"""The self-check reads one instant of the store: writes committed while it runs (the server
runs it at start-up, while clients already retry their writes) are not mistaken for entries
without rows, which would halt the log. `make crash` found this on PostgreSQL, whose reads
otherwise see each statement's own instant. On SQLite and PostgreSQL (the ``town`` fixture)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from healthcode.services import selfcheck
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.store import log as log_repo
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ_OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))


def order(town: Town, name: str) -> None:
    person = town.person(name)
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    town.services.orders.issue(
        ZZ_OFFICIAL,
        OrderRequest(
            kind="close_contact_quarantine",  # type: ignore[arg-type]
            legal_basis="idl-art-41-quarantine",
            persons=(PersonEvidence(person, (f"cdc-1/{record['record_id']}",)),),
            valid_until=town.clock.now() + days(10),
        ),
        now=town.clock.now(),
    )


def test_writes_during_the_self_check_do_not_halt_the_log(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    town.register_staff()
    order(town, "before")
    town.services.sequencer.integrate(now=town.clock.now())
    reading = selfcheck.expected_acts

    def meanwhile(conn: Any, secrets: Any) -> Any:
        found = reading(conn, secrets)
        order(town, "meanwhile")  # committed between the check's reads of rows and of entries
        return found

    monkeypatch.setattr(selfcheck, "expected_acts", meanwhile)
    report = town.services.self_check.run(now=town.clock.now())
    assert report.ok, report.problems
    with town.services.db.read() as conn:
        assert log_repo.halts(conn) == []
    monkeypatch.undo()
    assert town.services.self_check.run(now=town.clock.now()).ok  # and the new order checks out
