"""Oversight's ``guardianships`` detector over the store: a person the operator made guardian of
more people than a family holds, and guardianships ended soon after they were recorded (with
the guardian's reads meanwhile), each open a case naming the ``guardianship`` entries, the
guardian by an entry index (never a person key), in the case's entry only as a commitment;
a family-sized guardian, a long guardianship and what lies outside the window open none.
On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from healthcode.domain.oversight import guardianship_ref
from healthcode.oversight.detectors.guardianships import GuardianReach
from healthcode.oversight.runner import run_detectors
from healthcode.services.entry_opening import load_oversight_key
from healthcode.store import tables as t
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ERQI, Town, days


def findings(town: Town, now: datetime | None = None, window: timedelta = days(30)) -> list[Any]:
    with town.services.db.read() as conn:
        [run] = run_detectors(
            conn, now=now or town.clock.now() + days(1), window=window, detectors=[GuardianReach()]
        )
    return list(run.findings)


def people(town: Town, prefix: str, n: int) -> list[str]:
    return [town.person(f"{prefix}{i}", home=ERQI) for i in range(n)]


def record_all(town: Town, guardian: str, dependants: list[str]) -> list[int]:
    """Record each, and return the index of each one's ``guardianship`` entry."""
    indices = []
    for dependant in dependants:
        size = log_size(town)
        town.services.guardianships.record(guardian, dependant, now=town.clock.now())
        [(index, kind, _)] = entries_after(town, size)
        assert kind == "guardianship"
        indices.append(index)
        town.clock.advance(minutes=1)
    return indices


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def test_a_guardian_of_many_opens_a_case_and_a_family_sized_one_does_not(town: Town) -> None:
    town.register_staff()
    parent, broker = town.person("段父", home=ERQI), town.person("中介", home=ERQI)
    record_all(town, parent, people(town, "子", 6))  # a family: six
    assert findings(town) == []
    depositors = people(town, "储户", 9)
    indices = record_all(town, broker, depositors)
    [found] = findings(town)
    assert found.subject == f"guardian:{indices[0]}"  # the first entry naming them, no key
    assert found.records == tuple(sorted(guardianship_ref(i) for i in indices))
    assert found.score == 3.0  # over the six
    assert "guardian of 9 people" in found.summary_en and "9 人" in found.summary_zh
    assert broker not in found.summary_en + found.summary_zh + found.subject
    # Ending some does not hide them for the window they were in force in; a later run sees
    # the same guardian under the same subject.
    town.clock.advance(days=3)
    for dependant in depositors[:3]:
        town.services.guardianships.end(broker, dependant, now=town.clock.now())
    [again] = findings(town)
    assert again.subject == found.subject and again.records == found.records
    # A case, whose entry names the guardian only as a commitment (a subject of no public kind).
    size = log_size(town)
    now = town.clock.now() + days(1)
    assert len(town.services.oversight.run(now, detectors=[GuardianReach()]).new_cases) == 1
    [(_, _, body)] = [e for e in entries_after(town, size) if e[1] == "oversight_finding"]
    data = json.loads(body)["data"]
    assert data["subject_kind"] == "guardian" and data["subject"] != str(indices[0])
    assert data["record_count"] == 9
    # Oversight opens a named record's entry with its key alone: it names the guardian.
    key = town.services.settings.data_dir / "keys" / "oversight-escrow.x25519"
    opened = town.services.entry_opening.open(
        [indices[0]], load_oversight_key(key.read_bytes()), auditor="auditor-1", now=now
    )
    assert ("guardian", broker) in {(s.spot.field, s.owner) for s in opened.entries[0].spots}
    assert problems(town) == []


def test_guardianships_ended_soon_after_open_a_case_with_the_reads(town: Town) -> None:
    town.register_staff()
    official, parent = town.person("内线", home=ERQI), town.person("段父", home=ERQI)
    targets = people(town, "上访者", 2)
    child = town.person("段小红", home=ERQI)
    services = town.services
    indices = []
    for target in targets:  # "make me guardian, read the card, end it"
        [index] = record_all(town, official, [target])
        services.access.read_dependant(official, target, now=town.clock.now())
        services.passes.issue_pass(target, town.clock.now(), guardian=official)
        town.clock.advance(minutes=10)  # (and the minute record_all waits)
        services.guardianships.end(official, target, now=town.clock.now())
        indices.append(index)
    record_all(town, parent, [child])  # a real one, ended after days: not short
    town.clock.advance(days=5)
    services.guardianships.end(parent, child, now=town.clock.now())
    [found] = findings(town)
    assert found.subject == f"guardian:{indices[0]}"
    assert found.records == tuple(sorted(guardianship_ref(i) for i in indices))
    assert found.score == 2.0
    assert "2 guardianships ended" in found.summary_en
    assert "shortest after 11 minutes" in found.summary_en
    assert "4 reads" in found.summary_en and "4 次" in found.summary_zh
    assert official not in found.summary_en
    assert problems(town) == []


def test_the_window_is_respected(town: Town) -> None:
    town.register_staff()
    broker = town.person("中介", home=ERQI)
    dependants = people(town, "储户", 7)
    record_all(town, broker, dependants)
    quick = town.person("路人", home=ERQI)
    record_all(town, broker, [quick])
    town.services.guardianships.end(broker, quick, now=town.clock.now())
    for dependant in dependants:
        town.services.guardianships.end(broker, dependant, now=town.clock.now())
    ended = town.clock.now()
    assert len(findings(town, now=ended + days(1))) == 2  # both shapes, in the window
    # All ended before the window began: neither; the window ending before they were
    # recorded: neither.
    assert findings(town, now=ended + days(40)) == []
    assert findings(town, now=ended - timedelta(minutes=30), window=days(1)) == []
    with town.services.db.read() as conn:
        assert len(conn.execute(select(t.guardianship_ends)).all()) == 8
