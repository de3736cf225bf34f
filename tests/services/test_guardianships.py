"""Guardianships the operator records and ends (`services/guardianships.py`): each is a log
entry written with its row in one transaction, naming both people by person tags that open
only with their own secrets; recording one again writes nothing; an unknown person, a person as
their own guardian or ending one there is not is refused with nothing written; an ended one
grants no read, pass, card or appeal; and the self-check rebuilds both entries from the rows
and catches a row edited, deleted or written without its entry. On SQLite and PostgreSQL (the
``town`` fixture runs on both)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from healthcode.domain.appeals import AppealTarget, Ground
from healthcode.domain.log_entries import instant_text, person_tag
from healthcode.errors import HealthcodeError
from healthcode.services.appeals import AppealRequest
from healthcode.services.entry_opening import load_oversight_key
from healthcode.store import log as log_repo
from healthcode.store import staff as staff_repo
from healthcode.store import tables as t
from tests.counting import counts
from tests.services.test_appeals import positive
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ERQI, Town


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def family(town: Town) -> tuple[str, str]:
    return town.person("段父", home=ERQI), town.person("段小红", home=ERQI)


def test_a_guardianship_is_an_entry_with_its_row_naming_both_by_their_own_secrets(
    town: Town,
) -> None:
    town.register_staff()
    parent, child = family(town)
    size = log_size(town)
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is True
    [(index, kind, body)] = entries_after(town, size)
    secrets = town.services.secrets
    assert kind == "guardianship"
    data = json.loads(body)["data"]
    assert data == {
        "guardian": person_tag(secrets.secret(parent), index),
        "dependant": person_tag(secrets.secret(child), index),
        "since": instant_text(town.clock.now()),
        "recorded_by": "operator",
    }
    # Each tag opens with its own person's secret only, and neither names anyone in the clear.
    assert data["guardian"] != person_tag(secrets.secret(child), index)
    assert data["dependant"] != person_tag(secrets.secret(parent), index)
    assert parent.encode() not in body and child.encode() not in body
    assert "段".encode() not in body
    with town.services.db.read() as conn:
        row = conn.execute(select(t.guardianships)).one()
        assert log_repo.escrowed(conn, [parent, child]) == {parent, child}
    assert (row.person_key, row.guardian_key, row.log_index) == (child, parent, index)
    # Oversight, with its key alone, opens whom each tag names.
    key = town.services.settings.data_dir / "keys" / "oversight-escrow.x25519"
    opened = town.services.entry_opening.open(
        [index], load_oversight_key(key.read_bytes()), auditor="auditor-1", now=town.clock.now()
    )
    assert {(s.spot.field, s.owner) for s in opened.entries[0].spots} == {
        ("guardian", parent), ("dependant", child),
    }  # fmt: skip
    assert problems(town) == []
    # The dependant is shown it, by the guardian's name.
    [shown] = town.services.guardianships.guardians_of(child)
    assert (shown.name, shown.since, shown.log_index) == ("段父", town.clock.now(), index)
    assert town.services.guardianships.guardians_of(parent) == []


def test_the_row_and_its_entry_commit_together_or_not_at_all(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent, child = family(town)
    before = counts(town.services.db)

    def row_refused(*args: object) -> None:
        raise RuntimeError("the row could not be written")

    monkeypatch.setattr("healthcode.store.guardianships.insert", row_refused)
    with pytest.raises(RuntimeError):
        town.services.guardianships.record(parent, child, now=town.clock.now())
    assert counts(town.services.db) == before  # the entry, appended first, rolled back too
    monkeypatch.undo()
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    after = counts(town.services.db)
    assert after["guardianships"] == 1 and after["log entries"] == before["log entries"] + 1


def test_recording_it_again_writes_nothing(town: Town) -> None:
    parent, child = family(town)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    before = counts(town.services.db)
    town.clock.advance(days=3)
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is False
    assert town.services.identity.add_guardian(parent, child, now=town.clock.now()) is False
    assert counts(town.services.db) == before
    [shown] = town.services.guardianships.guardians_of(child)
    assert shown.since == town.clock.now() - timedelta(days=3)


@pytest.mark.parametrize(
    ("who", "end", "code"),
    [
        ("unknown guardian", False, "guardianship.guardian_unknown"),
        ("unknown dependant", False, "guardianship.dependant_unknown"),
        ("self", False, "guardianship.self"),
        ("self", True, "guardianship.self"),
        ("none recorded", True, "guardianship.not_found"),
        ("unknown guardian", True, "guardianship.not_found"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(
    town: Town, who: str, end: bool, code: str
) -> None:
    parent, child = family(town)
    nobody = "0" * 32
    guardian, dependant = {
        "unknown guardian": (nobody, child),
        "unknown dependant": (parent, nobody),
        "self": (child, child),
        "none recorded": (parent, child),
    }[who]
    before = counts(town.services.db)
    act = town.services.guardianships.end if end else town.services.guardianships.record
    with pytest.raises(HealthcodeError) as refused:
        act(guardian, dependant, now=town.clock.now())
    assert refused.value.code == code
    assert refused.value.spec.zh and refused.value.spec.en
    assert counts(town.services.db) == before


def test_an_ended_guardianship_is_logged_and_grants_nothing_more(town: Town) -> None:
    town.register_staff()
    parent, child = family(town)
    services = town.services
    services.identity.add_guardian(parent, child, now=town.clock.now())
    services.access.read_dependant(parent, child, now=town.clock.now())  # a read, allowed
    [start] = [i for i, kind, _ in entries_after(town, 0) if kind == "guardianship"]
    town.clock.advance(days=1)
    size = log_size(town)
    services.guardianships.end(parent, child, now=town.clock.now())
    [(index, kind, body)] = entries_after(town, size)
    secrets = services.secrets
    assert kind == "guardianship_end"
    assert json.loads(body)["data"] == {
        "guardian": person_tag(secrets.secret(parent), index),
        "dependant": person_tag(secrets.secret(child), index),
        "start": start, "until": instant_text(town.clock.now()), "recorded_by": "operator",
    }  # fmt: skip
    with services.db.read() as conn:
        assert not staff_repo.is_guardian(conn, parent, child)
        assert staff_repo.dependants(conn, parent) == []
        [ended] = conn.execute(select(t.guardianship_ends)).all()
    assert (ended.log_index, ended.start_log_index, ended.guardian_key) == (index, start, parent)
    assert services.guardianships.guardians_of(child) == []
    # No read, pass, card or appeal for the dependant any more, and none of them recorded.
    before = counts(services.db)
    for refused_read in (
        lambda: services.access.read_dependant(parent, child, now=town.clock.now()),
        lambda: services.passes.issue_pass(child, town.clock.now(), guardian=parent),
        lambda: services.passes.identity_card(child, town.clock.now(), guardian=parent),
    ):
        with pytest.raises(HealthcodeError) as refused:
            refused_read()
        assert refused.value.code == "auth.forbidden"
    assert services.access.read_dependants(parent, now=town.clock.now()) == []
    ref = positive(town, child)
    before = counts(services.db)
    with pytest.raises(HealthcodeError) as refused:
        services.appeals.file(
            parent,
            AppealRequest(AppealTarget.EVIDENCE, Ground.NOT_MINE, ref=ref, on_behalf_of=child),
            now=town.clock.now(),
        )
    assert refused.value.code == "appeal.not_guardian"
    assert counts(services.db) == before
    assert problems(town) == []
    # Recorded again later: a new entry, and the ended one's two stay rebuilt from its row.
    town.clock.advance(days=1)
    assert services.guardianships.record(parent, child, now=town.clock.now()) is True
    services.guardianships.end(parent, child, now=town.clock.now())
    with pytest.raises(HealthcodeError) as again:  # ending it twice: the second finds none
        services.guardianships.end(parent, child, now=town.clock.now())
    assert again.value.code == "guardianship.not_found"
    assert problems(town) == []


def _recorded(town: Town) -> tuple[str, str, str]:
    parent, child = family(town)
    other = town.person("王姨", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    return parent, child, other


@pytest.mark.parametrize("edit", ["guardian", "dependant", "since"])
def test_the_self_check_catches_an_edited_row(town: Town, edit: str) -> None:
    _, _, other = _recorded(town)
    values = {
        "guardian": {"guardian_key": other},
        "dependant": {"person_key": other},
        "since": {"since": town.clock.now() - timedelta(days=30)},
    }[edit]
    with town.services.db.write() as conn:
        conn.execute(update(t.guardianships).values(values))
    assert any("(guardianship) does not match the record it logs" in p for p in problems(town))


def test_the_self_check_catches_a_row_deleted_or_written_without_its_entry(town: Town) -> None:
    _, child, other = _recorded(town)
    with town.services.db.write() as conn:  # ended quietly: the entry has no record
        conn.execute(delete(t.guardianships))
    assert any("(guardianship) has no stored record" in p for p in problems(town))
    with town.services.db.write() as conn:  # a guardian made in the table alone: no entry
        conn.execute(insert(t.guardianships).values(
            person_key=child, guardian_key=other, since=town.clock.now(), log_index=None,
        ))  # fmt: skip
    found = problems(town)
    assert any("has no log entry" in p for p in found)
    assert other not in " ".join(found) and child not in " ".join(found)


def test_the_self_check_catches_an_ended_row_edited_or_deleted(town: Town) -> None:
    parent, child, other = _recorded(town)
    town.clock.advance(hours=2)
    town.services.guardianships.end(parent, child, now=town.clock.now())
    assert problems(town) == []
    with town.services.db.write() as conn:
        conn.execute(update(t.guardianship_ends).values(guardian_key=other))
    found = problems(town)
    assert any("(guardianship) does not match" in p for p in found)
    assert any("(guardianship_end) does not match" in p for p in found)
    with town.services.db.write() as conn:
        conn.execute(delete(t.guardianship_ends))
    found = problems(town)
    assert any("(guardianship_end) has no stored record" in p for p in found)
    assert any("(guardianship) has no stored record" in p for p in found)


def test_one_recorded_before_it_was_logged_is_logged_when_recorded_again(town: Town) -> None:
    """A row from before migration 0027 (no entry, marked by the migration): the self-check
    accepts it, so an upgrade halts nothing; recording it again logs it with its own date."""
    parent, child = family(town)
    long_ago = town.clock.now() - timedelta(days=100)
    with town.services.db.write() as conn:
        conn.execute(insert(t.guardianships).values(
            person_key=child, guardian_key=parent, since=long_ago, log_index=None,
            before_logging=True,
        ))  # fmt: skip
    assert problems(town) == []
    size = log_size(town)
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is True
    [(_, kind, body)] = entries_after(town, size)
    assert kind == "guardianship" and json.loads(body)["data"]["since"] == instant_text(long_ago)
    assert problems(town) == []
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is False
