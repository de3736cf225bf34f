"""Venue device tokens the operator issues (`VenueTokens.issue`, ``healthcode venue token``,
the demo's venue link): each is a ``venue_token`` entry logged with its row in one
transaction, naming the venue in the clear; its claims say the operator issued it and carry
the row's id; the self-check rebuilds each entry from its row and catches an edited or deleted
one; an unknown venue or a lifetime out of bounds is refused with nothing written. On SQLite
and PostgreSQL (``town`` runs on both)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from healthcode.domain.log_entries import instant_text
from healthcode.errors import HealthcodeError
from healthcode.services.tokens import VENUE_AUDIENCE
from healthcode.store import tables as t
from healthcode.store import venue_tokens as repo
from tests.counting import counts
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town, days


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def test_a_device_token_is_logged_with_its_row_and_says_who_issued_it(town: Town) -> None:
    size = log_size(town)
    token = town.services.venue_tokens.issue("station", now=town.clock.now(), ttl=days(30))
    claims = town.services.tokens.verify(token, audience=VENUE_AUDIENCE, now=town.clock.now())
    assert (claims.subject, claims.role, claims.operator_issued) == ("station", "venue", True)
    assert claims.expires_at - claims.issued_at == days(30)
    [(index, kind, body)] = entries_after(town, size)
    assert kind == "venue_token"
    assert json.loads(body)["data"] == {
        "venue": "station", "issued_by": "operator",
        "valid_from": instant_text(claims.issued_at), "valid_until": instant_text(claims.expires_at),
    }  # fmt: skip
    with town.services.db.read() as conn:
        [row] = repo.every(conn)
    assert (row.token_id, row.venue_id, row.log_index) == (claims.token_id, "station", index)
    assert (row.valid_from, row.valid_until) == (claims.issued_at, claims.expires_at)
    assert problems(town) == []


def test_the_venue_sees_each_token_issued_for_it_and_no_other_venues(town: Town) -> None:
    issue = town.services.venue_tokens.issue
    first = issue("station", now=town.clock.now(), ttl=timedelta(hours=1))
    issue("market", now=town.clock.now(), ttl=timedelta(hours=1))
    town.clock.advance(minutes=5)
    issue("station", now=town.clock.now(), ttl=days(2))
    town.services.tokens.sign_out(first, audience=VENUE_AUDIENCE, now=town.clock.now())
    listed = town.services.venue_tokens.of_venue("station")
    assert [v.issued.valid_until - v.issued.valid_from for v in listed] == [
        days(2), timedelta(hours=1),
    ]  # newest first  # fmt: skip
    assert listed[0].revoked_at is None and listed[1].revoked_at == town.clock.now()
    assert town.services.venue_tokens.of_venue("mall") == []


@pytest.mark.parametrize(("column", "value"), [("venue_id", "market"), ("valid_until", "later")])
def test_the_self_check_catches_an_edited_token_row(town: Town, column: str, value: str) -> None:
    town.services.venue_tokens.issue("station", now=town.clock.now(), ttl=days(1))
    edited = town.clock.now() + days(60) if value == "later" else value
    with town.services.db.write() as conn:
        conn.execute(update(t.venue_tokens).values({column: edited}))
    assert any("(venue_token) does not match the record it logs" in p for p in problems(town))


def test_the_self_check_catches_a_token_row_deleted(town: Town) -> None:
    town.services.venue_tokens.issue("station", now=town.clock.now(), ttl=days(1))
    with town.services.db.write() as conn:
        conn.execute(delete(t.venue_tokens))
    assert any("(venue_token) has no stored record" in p for p in problems(town))


@pytest.mark.parametrize(
    ("venue", "ttl", "code"),
    [
        ("nowhere", days(1), "venue_token.venue_unknown"),
        ("not a venue\x00", days(1), "venue_token.venue_unknown"),
        ("x" * 65, days(1), "venue_token.venue_unknown"),
        ("station", timedelta(0), "venue_token.ttl_invalid"),
        ("station", timedelta(seconds=59), "venue_token.ttl_invalid"),
        ("station", days(90) + timedelta(seconds=1), "venue_token.ttl_invalid"),
        ("station", timedelta(hours=-5), "venue_token.ttl_invalid"),
    ],
)
def test_an_unknown_venue_or_a_lifetime_out_of_bounds_is_refused_with_nothing_written(
    town: Town, venue: str, ttl: timedelta, code: str
) -> None:
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        town.services.venue_tokens.issue(venue, now=town.clock.now(), ttl=ttl)
    assert refused.value.code == code
    assert counts(town.services.db) == before


def test_the_bounds_hold_a_month_and_a_season(town: Town) -> None:
    for ttl in (timedelta(minutes=1), days(30), days(90)):
        town.services.venue_tokens.issue("market", now=town.clock.now(), ttl=ttl)
    assert len(town.services.venue_tokens.of_venue("market")) == 3


def test_a_failure_after_the_entry_leaves_neither_entry_nor_token(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry and the row are one transaction, and the token is minted only after it: a row
    that cannot be written takes the entry with it, and no token exists."""
    minted: list[str] = []
    monkeypatch.setattr(town.services.tokens, "mint", lambda *a, **k: minted.append("x") or "")

    def fail(conn, issued):  # type: ignore[no-untyped-def]
        raise RuntimeError("the store went away")

    monkeypatch.setattr(repo, "insert", fail)
    before = counts(town.services.db)
    with pytest.raises(RuntimeError):
        town.services.venue_tokens.issue("station", now=town.clock.now(), ttl=days(1))
    assert counts(town.services.db) == before and minted == []
