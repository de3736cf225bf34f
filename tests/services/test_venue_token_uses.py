"""Identity cards checked with a venue device token the operator issued: each check is its
``access`` entry and a ``venue_token_use`` entry naming it and the token's ``venue_token``
entry, one transaction; a token the log does not back (never logged, another venue's, used
outside its logged validity) refuses the check with nothing written; the self-check rebuilds
every use from its row and catches one edited, moved onto another venue's read or deleted. On
SQLite and PostgreSQL (``town`` runs on both)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from healthcode.domain.log_entries import instant_text
from healthcode.errors import HealthcodeError
from healthcode.services.passes import VenueAnswer
from healthcode.services.tokens import VENUE_AUDIENCE, Claims
from healthcode.store import tables as t
from healthcode.store import venue_tokens as repo
from tests.counting import counts
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ZHONGYUAN, Town, days


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def device(town: Town, venue: str = "mall", ttl: timedelta = days(1)) -> Claims:
    """The claims of the token ``healthcode venue token VENUE`` prints."""
    token = town.services.venue_tokens.issue(venue, now=town.clock.now(), ttl=ttl)
    return town.services.tokens.verify(token, audience=VENUE_AUDIENCE, now=town.clock.now())


def card(town: Town, name: str = "张奶奶奶") -> str:
    """A printed identity card's text, of a person registered for it."""
    person = town.person(name, home=ZHONGYUAN)
    return town.services.passes.identity_card(person, town.clock.now()).text


def check(
    town: Town, text: str, token_id: str | None, *, venue: str = "mall", at: datetime | None = None
) -> VenueAnswer:
    now = at or town.clock.now()
    where = town.services.places.venue(venue, now)
    return town.services.passes.check_card(where, text, now, device_token=token_id)


def token_index(town: Town, token_id: str) -> int:
    with town.services.db.read() as conn:
        found = repo.find(conn, token_id)
    assert found is not None
    return found.log_index


def test_a_card_checked_with_a_device_token_is_logged_as_made_with_it(town: Town) -> None:
    text = card(town)
    claims = device(town)
    size = log_size(town)
    check(town, text, claims.token_id)
    [(read, kind, _), (use, use_kind, body)] = entries_after(town, size)
    assert (kind, use_kind) == ("access", "venue_token_use")
    assert json.loads(body)["data"] == {
        "token": token_index(town, claims.token_id), "entry": read, "act": "access",
        "at": instant_text(town.clock.now()),
    }  # fmt: skip
    with town.services.db.read() as conn:
        [row] = repo.every_use(conn)
    assert (row.log_index, row.token_id, row.act_index, row.act, row.at) == (
        use, claims.token_id, read, "access", town.clock.now(),
    )  # fmt: skip
    assert problems(town) == []
    # The venue's page counts it under its token, and when it was made.
    town.clock.advance(minutes=3)
    check(town, text, claims.token_id)
    [listed] = town.services.venue_tokens.of_venue("mall")
    assert (listed.checks, listed.last_used) == (2, town.clock.now())
    assert problems(town) == []


def test_a_device_token_carrying_no_operators_id_writes_no_use(town: Town) -> None:
    """A venue token minted with the signing key outside the code (the tests' own devices)
    has no row to name: its check is the venue's access alone, as before."""
    text = card(town)
    unused = device(town)
    size = log_size(town)
    check(town, text, None)
    assert [kind for _, kind, _ in entries_after(town, size)] == ["access"]
    [listed] = town.services.venue_tokens.of_venue("mall")
    assert (listed.issued.token_id, listed.checks, listed.last_used) == (unused.token_id, 0, None)
    assert problems(town) == []


@pytest.mark.parametrize("token", ["never_logged", "another_venues", "at_expiry", "before_issue"])
def test_a_device_token_the_log_does_not_back_checks_nothing(town: Town, token: str) -> None:
    """A token never logged, one issued for another venue, or one used at an instant outside
    the validity its ``venue_token`` entry states (the request's instant was checked, the
    check is dated a moment later, or by a host whose clock runs behind) refuses the check,
    and the read is not recorded either."""
    text = card(town)
    town.clock.advance(minutes=5)  # issued after the card
    at = town.clock.now()
    if token == "never_logged":
        token_id = "0" * 32
    else:
        claims = device(town, "market" if token == "another_venues" else "mall")
        token_id = claims.token_id
        if token == "at_expiry":
            at = claims.expires_at
        elif token == "before_issue":
            at = claims.issued_at - timedelta(seconds=1)
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        check(town, text, token_id, at=at)
    assert refused.value.code == "auth.invalid_token"
    assert counts(town.services.db) == before
    assert town.services.access.of_person(_holder(town)) == []
    assert problems(town) == []


def _holder(town: Town) -> str:
    with town.services.db.read() as conn:
        return str(conn.scalar(select(t.identity_cards.c.person_key)))


@pytest.mark.parametrize(
    ("column", "value"), [("act_index", "the_token"), ("at", "later"), ("token_id", "other")]
)
def test_the_self_check_catches_an_edited_use_row(town: Town, column: str, value: str) -> None:
    text = card(town)
    claims = device(town)
    other = device(town)
    check(town, text, claims.token_id)
    edited: object = {
        "the_token": token_index(town, claims.token_id),
        "later": town.clock.now() + days(2),  # past the token's validity too
        "other": other.token_id,
    }[value]
    with town.services.db.write() as conn:
        conn.execute(update(t.venue_token_uses).values({column: edited}))
    found = problems(town)
    assert any("(venue_token_use) does not match the record it logs" in p for p in found)
    if value == "the_token":  # no card check: the token's own entry
        assert any("as its act (access), which the records do not hold" in p for p in found)
    if value == "later":
        assert any("outside its token's validity" in p for p in found)


def test_the_self_check_catches_a_use_moved_onto_another_venues_check_or_deleted(
    town: Town,
) -> None:
    mine, theirs = card(town), card(town, "李爷爷爷")
    claims = device(town)
    check(town, theirs, None, venue="market")  # the market's own device
    size = log_size(town)
    check(town, mine, claims.token_id)
    [(read, _, _)] = [entry for entry in entries_after(town, size) if entry[1] == "access"]
    with town.services.db.read() as conn:
        market = conn.scalar(
            select(t.access_log.c.log_index).where(t.access_log.c.accessor_id == "market")
        )
    assert problems(town) == []
    with town.services.db.write() as conn:
        conn.execute(update(t.venue_token_uses).values(act_index=market))
    found = problems(town)
    assert any("(venue_token_use) does not match the record it logs" in p for p in found)
    assert any(f"names entry {market} as its act (access)" in p and "by mall" in p for p in found)
    with town.services.db.write() as conn:
        conn.execute(update(t.venue_token_uses).values(act_index=read))
    assert problems(town) == []  # put back: nothing else was touched
    with town.services.db.write() as conn:
        conn.execute(delete(t.venue_token_uses))
    assert any("(venue_token_use) has no stored record" in p for p in problems(town))
