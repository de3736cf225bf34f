"""Acts made with a person token the operator issued (services/person_token_uses.py): each a
``person_token_use`` entry and a row, written in the act's transaction; the self-check
rebuilds each entry from its row and its token's, and catches a row edited, moved onto
another act or another person's token, or deleted; a token the log does not back for that
person, at that instant, acts for no one, its act refused with nothing written. On SQLite and
PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from healthcode.domain.appeals import AppealTarget, Ground
from healthcode.errors import HealthcodeError
from healthcode.services import person_token_uses
from healthcode.services.appeals import AppealRequest
from healthcode.services.tokens import PERSON_AUDIENCE, Claims
from healthcode.store import person_tokens as repo
from healthcode.store import tables as t
from healthcode.store.person_tokens import RECENT_USES, PersonTokenUse
from tests.counting import counts
from tests.services.test_order_refusals import OFFICIAL, entries_after, log_size
from tests.services.test_staff_tokens import contact, one_order
from tests.town import ERQI, Town


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def issue(town: Town, person: str, hours: float = 1) -> Claims:
    [token] = town.services.person_tokens.issue(
        person, ["bearer"], now=town.clock.now(), ttl=timedelta(hours=hours)
    )
    return town.services.tokens.check(token, audience=PERSON_AUDIENCE, now=town.clock.now())


def ordered(town: Town) -> tuple[str, str]:
    """p-1 under an order an official issued with their own sign-in: (person, order id)."""
    town.register_staff()
    named = contact(town)
    [order] = one_order(town, OFFICIAL, named, town.clock.now()).orders
    return named.person, order.id


def file(town: Town, person: str, order_id: str, token_id: str | None, **at: float) -> None:
    town.services.appeals.file(
        person, AppealRequest(target=AppealTarget.ORDER, ground=Ground.NOT_THERE, ref=order_id),
        now=town.clock.now() + timedelta(**at), operator_token=token_id,
    )  # fmt: skip


def test_an_appeal_made_with_it_is_one_use_naming_the_appeals_entry(town: Town) -> None:
    person, order_id = ordered(town)
    claims = issue(town, person)
    size = log_size(town)
    file(town, person, order_id, claims.token_id)
    logged = entries_after(town, size)
    assert [kind for _, kind, _ in logged] == ["appeal_filed", "person_token_use"]
    data = json.loads(logged[1][2])["data"]
    assert (data["entry"], data["act"]) == (logged[0][0], "appeal_filed")
    assert set(data) == {"token", "entry", "act", "at"}  # no person, no key
    assert problems(town) == []


def test_the_self_check_catches_a_use_edited_moved_or_deleted(town: Town) -> None:
    person, order_id = ordered(town)
    claims = issue(town, person)
    file(town, person, order_id, claims.token_id)
    assert problems(town) == []
    with town.services.db.write() as conn:
        conn.execute(update(t.person_token_uses).values(act_index=0))
    found = problems(town)
    assert any("(person_token_use) does not match the record it logs" in p for p in found)
    assert any("a person token use names entry 0 as its act (appeal_filed)" in p for p in found)
    with town.services.db.write() as conn:  # onto another person's token: no such token of theirs
        conn.execute(update(t.person_token_uses).values(person_key="0" * 32))
    assert any("no such token of its person" in p for p in problems(town))
    with town.services.db.write() as conn:
        conn.execute(delete(t.person_token_uses))
    assert any("(person_token_use) has no stored record" in p for p in problems(town))


def test_the_self_check_catches_a_use_naming_another_persons_act(town: Town) -> None:
    """A use written whole (its row and its entry agree) but naming an act the records hold as
    someone else's: an appeal another person filed is no act of this token's person."""
    person, order_id = ordered(town)
    file(town, person, order_id, None)  # their own token: no use
    with town.services.db.read() as conn:
        filed = int(conn.scalar(t.appeals.select().with_only_columns(t.appeals.c.log_index)))
    other = town.person("another", home=ERQI)
    claims = issue(town, other)
    with town.services.db.write() as conn:
        person_token_uses.record_uses(
            conn, claims.token_id, person_key=other, act_indices=[filed], act="appeal_filed",
            now=town.clock.now(),
        )  # fmt: skip
    found = problems(town)
    assert any(
        f"names entry {filed} as its act (appeal_filed), which the records do not hold as its"
        " token's person's" in p
        for p in found
    ), found
    assert not any("does not match the record it logs" in p for p in found)


def test_a_persons_page_counts_every_use_and_lists_only_the_newest(town: Town) -> None:
    """A guardian's token makes a use at every view of a dependant: the page never loads
    them all (rows alone here, as many as a busy year's views would leave)."""
    person = town.person("counted", home=ERQI)
    claims = issue(town, person)
    with town.services.db.write() as conn:
        repo.insert_uses(conn, [
            PersonTokenUse(10_000 + n, person, claims.token_id, 20_000 + n, "access",
                           town.clock.now())
            for n in range(RECENT_USES + 5)
        ])  # fmt: skip
    [view] = town.services.person_tokens.of_person(person)
    assert view.use_count == RECENT_USES + 5
    assert [use.log_index for use in view.uses] == [
        10_000 + n for n in reversed(range(5, RECENT_USES + 5))
    ]
    assert town.services.person_tokens.of_person(town.person("none", home=ERQI)) == []


def test_the_self_check_catches_a_use_dated_outside_its_tokens_validity(town: Town) -> None:
    person, order_id = ordered(town)
    claims = issue(town, person)
    file(town, person, order_id, claims.token_id)
    with town.services.db.write() as conn:
        conn.execute(update(t.person_token_uses).values(at=claims.expires_at + timedelta(hours=1)))
    assert any("outside its token's validity" in p for p in problems(town))


@pytest.mark.parametrize("act", ["appeal", "guardian_read"])
@pytest.mark.parametrize("token", ["never_logged", "another_persons", "at_expiry", "before_issue"])
def test_a_token_the_log_does_not_back_acts_for_no_one(town: Town, act: str, token: str) -> None:
    """The token is checked when the request comes in; the act is dated a moment later (and
    another host's clock may run behind): an act dated outside the validity its entry states
    is refused, as one with a token never logged or issued for someone else."""
    person, order_id = ordered(town)
    child = town.person("c-1", home=ERQI)
    town.services.identity.add_guardian(person, child, now=town.clock.now())
    town.clock.advance(minutes=5)
    claims = issue(town, town.person("p-2") if token == "another_persons" else person)
    token_id = "0" * 32 if token == "never_logged" else claims.token_id
    at = {"at_expiry": claims.expires_at, "before_issue": claims.issued_at - timedelta(seconds=1)}
    now = at.get(token, town.clock.now())
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        if act == "appeal":
            file(town, person, order_id, token_id, seconds=(now - town.clock.now()).total_seconds())
        else:
            town.services.access.read_dependant(person, child, now=now, operator_token=token_id)
    assert refused.value.code == "auth.invalid_token"
    assert counts(town.services.db) == before
    assert problems(town) == []
