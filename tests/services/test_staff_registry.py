"""A staff registration's ``registry`` entry says whether the load set the member's password
(``set``, ``kept``, ``none``; never the password or its hash), how they stood before and how
many active supervisors their authority had, with its row of ``staff_registrations``; the
self-check rebuilds it from the row and catches an edited or deleted one; and
``staff_registry`` opens a case for a password reset and for a supervisor added beside an
active one, none for an authority's first supervisors or a re-registration that changes
nothing. On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, update

from healthcode.bootstrap import Services
from healthcode.domain.oversight import staff_registration_ref
from healthcode.oversight.detectors.staff_registry import StaffRegistry
from healthcode.oversight.runner import run_detectors
from healthcode.sim.city import build_city
from healthcode.store import staff_registrations as registrations_repo
from healthcode.store import tables as t
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town, days

SUPERVISOR = {"id": "zz-sup-1", "role": "supervisor", "authority": "zz-health", "name": "李娜"}


def register(town: Town, *members: dict[str, Any]) -> list[dict[str, Any]]:
    """Register, and return the data of the entries the load wrote."""
    size = log_size(town)
    town.services.staff.register(list(members), now=town.clock.now())
    return [json.loads(body)["data"] for _, _, body in entries_after(town, size)]


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def findings(town: Town) -> list[Any]:
    with town.services.db.read() as conn:
        [run] = run_detectors(conn, now=town.clock.now() + days(1), detectors=[StaffRegistry()])
    return list(run.findings)


def test_the_entry_says_whether_the_load_set_kept_or_left_no_password(town: Town) -> None:
    [first] = register(town, SUPERVISOR)
    assert first["record"]["password"] == "none" and first["before"] is None
    assert first["supervisors_before"] == 0 and first["supervisors_left"] is None
    [given] = register(town, {**SUPERVISOR, "password": "a secret pass 1"})
    assert given["record"]["password"] == "set"
    assert given["before"] == {
        "role": "supervisor", "authority": "zz-health", "active": True, "had_password": False
    }  # fmt: skip
    [again] = register(town, SUPERVISOR)
    assert again["record"]["password"] == "kept" and again["before"]["had_password"] is True
    [reset] = register(town, {**SUPERVISOR, "password": "the operator's 2"})
    assert reset["record"]["password"] == "set"
    for data in (first, given, again, reset):
        assert "secret" not in json.dumps(data) and "argon2" not in json.dumps(data)
    with town.services.db.read() as conn:
        rows = conn.execute(t.staff_registrations.select().order_by("log_index")).all()
    assert [row.password for row in rows] == ["none", "set", "kept", "set"]
    assert problems(town) == []


def test_a_password_reset_and_a_supervisor_beside_an_active_one_open_cases(town: Town) -> None:
    town.register_staff()  # an authority's first supervisors, in one load: no case
    register(town, {"id": "zz-off-1", "role": "official", "authority": "zz-health",
                    "name": "张伟"})  # fmt: skip  # changes nothing (the password is kept)
    assert findings(town) == []
    register(town, {"id": "zz-off-1", "role": "official", "authority": "zz-health",
                    "name": "张伟", "password": "the operator's 1"})  # fmt: skip
    register(town, {"id": "zz-sup-9", "role": "supervisor", "authority": "zz-health",
                    "name": "新人"})  # fmt: skip
    register(town, {"id": "sh-sup-1", "role": "supervisor", "authority": "sh-health",
                    "name": "刘洋"})  # fmt: skip  # the same again: nothing
    reset, added = findings(town)
    assert reset.subject == "official:zz-off-1" and "new password" in reset.summary_en
    assert "新密码" in reset.summary_zh
    assert added.subject == "official:zz-sup-9" and "already had an active supervisor" in (
        added.summary_en
    )
    with town.services.db.read() as conn:
        indexes = [
            row.log_index
            for row in conn.execute(
                t.staff_registrations.select()
                .where(t.staff_registrations.c.staff_id.in_(["zz-off-1", "zz-sup-9"]))
                .order_by("log_index")
            )
        ]
    assert reset.records == (staff_registration_ref(indexes[2]),)  # after two unflagged
    assert added.records == (staff_registration_ref(indexes[3]),)
    summary = town.services.oversight.run(town.clock.now() + days(1), detectors=[StaffRegistry()])
    assert len(summary.new_cases) == 2
    assert problems(town) == []


def test_a_member_brought_back_or_the_last_supervisor_removed_opens_a_case(town: Town) -> None:
    town.register_staff()
    register(town, {"id": "sh-sup-1", "role": "supervisor", "authority": "sh-health",
                    "name": "刘洋", "active": False})  # fmt: skip
    register(town, {"id": "sh-sup-1", "role": "supervisor", "authority": "sh-health",
                    "name": "刘洋"})  # fmt: skip
    removed, back = findings(town)
    assert "last active supervisor" in removed.summary_en
    assert "made active again" in back.summary_en


def test_the_self_check_catches_an_edited_or_deleted_registration(town: Town) -> None:
    town.register_staff()
    register(town, {**SUPERVISOR, "password": "the operator's 1"})
    with town.services.db.write() as conn:
        conn.execute(
            update(t.staff_registrations)
            .where(t.staff_registrations.c.password == "set")
            .values(password="kept")
        )
    assert any("(registry) does not match the record it logs" in p for p in problems(town))
    with town.services.db.write() as conn:
        conn.execute(
            delete(t.staff_registrations).where(t.staff_registrations.c.password == "kept")
        )
    found = problems(town)
    assert any("registers staff, and has no stored record" in p for p in found)


def test_the_self_check_catches_a_member_changed_behind_the_log(town: Town) -> None:
    town.register_staff()
    with town.services.db.write() as conn:
        conn.execute(update(t.staff).where(t.staff.c.id == "zz-sup-1").values(password_hash="x"))
    assert any("staff zz-sup-1: not as their last registration" in p for p in problems(town))


def test_a_demo_city_opens_no_case_and_passes_the_self_check(services: Services) -> None:
    # Its authorities' supervisors are set up in one load (each city's second one with a
    # password of their own); the demo then hands the operator's tokens out.
    build_city(services, people=60, seed=3, days=2)
    now = services.clock.now()
    with services.db.read() as conn:
        [run] = run_detectors(conn, now=now, detectors=[StaffRegistry()])
        passwords = {r.staff_id: r.password for r in registrations_repo.every(conn)}
    assert run.findings == []
    assert passwords["410100-supervisor-2"] == "set" and passwords["410100-official"] == "none"
    report = services.self_check.run(now=now, halt=False)
    assert report.problems == []
