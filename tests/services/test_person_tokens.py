"""Person tokens the operator issues (`PersonTokens.issue`, ``healthcode admin token``, the
demo's links): each is a ``person_token`` entry logged with its row in one transaction, naming
the person only by a person tag their secret (and oversight's escrow) opens and no one else's;
its claims say the operator issued it and carry the row's id; the self-check rebuilds each
entry from its row and catches an edited or deleted one; an unknown person or a lifetime out
of bounds is refused with nothing written. On SQLite and PostgreSQL (``town`` runs on both)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from healthcode.domain.log_entries import instant_text, person_tag
from healthcode.errors import HealthcodeError
from healthcode.services.entry_opening import load_oversight_key
from healthcode.services.tokens import PERSON_AUDIENCE, SIGN_IN_AUDIENCE
from healthcode.store import person_tokens as repo
from healthcode.store import tables as t
from tests.counting import counts
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town, days


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def test_a_bearer_token_and_a_link_are_logged_with_their_rows_and_say_who_issued_them(
    town: Town,
) -> None:
    person = town.person("令牌持有人")
    size = log_size(town)
    bearer, link = town.services.person_tokens.issue(
        person, ["bearer", "login_link"], now=town.clock.now(), ttl=timedelta(hours=2)
    )
    now = town.clock.now()
    claims = [
        town.services.tokens.verify(bearer, audience=PERSON_AUDIENCE, now=now),
        town.services.tokens.verify(link, audience=SIGN_IN_AUDIENCE, now=now),
    ]
    assert all(c.subject == person and c.operator_issued for c in claims)
    assert all(c.expires_at - c.issued_at == timedelta(hours=2) for c in claims)
    logged = entries_after(town, size)
    assert [kind for _, kind, _ in logged] == ["person_token", "person_token"]
    secret = town.services.secrets.secret(person)
    with town.services.db.read() as conn:
        # The claims find the rows: each token's id is its row's.
        by_id = {row.token_id: row for row in repo.every(conn)}
        rows = [by_id.get(c.token_id) for c in claims]
    for (index, _, body), row, kind, c in zip(
        logged, rows, ["bearer", "login_link"], claims, strict=True
    ):
        assert json.loads(body)["data"] == {
            "person": person_tag(secret, index), "token": kind, "issued_by": "operator",
            "valid_from": instant_text(c.issued_at), "valid_until": instant_text(c.expires_at),
        }  # fmt: skip
        assert person.encode() not in body  # the person only as a tag
        assert row is not None and (row.person_key, row.kind, row.log_index) == (
            person,
            kind,
            index,
        )
    assert problems(town) == []


def test_the_person_tag_opens_with_the_persons_secret_only(town: Town) -> None:
    person, other = town.person("本人"), town.person("旁人")
    size = log_size(town)
    town.services.person_tokens.issue(person, ["bearer"], now=town.clock.now(), ttl=days(1))
    [(index, _, body)] = entries_after(town, size)
    tag = json.loads(body)["data"]["person"]
    assert tag == person_tag(town.services.secrets.secret(person), index)
    assert tag != person_tag(town.services.secrets.secret(other), index)
    # Oversight, with its own key, learns whose token it was from the escrows alone.
    key = town.services.settings.data_dir / "keys" / "oversight-escrow.x25519"
    town.register_staff()
    opened = town.services.entry_opening.open(
        [index], load_oversight_key(key.read_bytes()), auditor="auditor-1", now=town.clock.now()
    )
    [spot] = opened.entries[0].spots
    assert (spot.spot.field, spot.owner) == ("person", person)


def test_the_person_sees_each_token_issued_for_them_and_no_one_elses(town: Town) -> None:
    person, other = town.person("看得见"), town.person("别人")
    issue = town.services.person_tokens.issue
    [link] = issue(person, ["login_link"], now=town.clock.now(), ttl=timedelta(hours=1))
    issue(other, ["bearer"], now=town.clock.now(), ttl=timedelta(hours=1))
    town.clock.advance(minutes=5)
    issue(person, ["bearer"], now=town.clock.now(), ttl=timedelta(hours=3))
    town.services.tokens.redeem(link, audience=SIGN_IN_AUDIENCE, now=town.clock.now())
    listed = town.services.person_tokens.of_person(person)
    assert [v.issued.kind for v in listed] == ["bearer", "login_link"]  # newest first
    assert listed[0].revoked_at is None and listed[1].revoked_at == town.clock.now()
    assert listed[0].issued.valid_until - listed[0].issued.valid_from == timedelta(hours=3)


@pytest.mark.parametrize(
    ("column", "value"),
    [("kind", "login_link"), ("person_key", "other"), ("valid_until", "later")],
)
def test_the_self_check_catches_an_edited_token_row(town: Town, column: str, value: str) -> None:
    person, other = town.person("被改者"), town.person("另一人")
    town.services.person_tokens.issue(person, ["bearer"], now=town.clock.now(), ttl=days(1))
    edited = {"later": town.clock.now() + days(30), "other": other}.get(value, value)
    with town.services.db.write() as conn:
        conn.execute(update(t.person_tokens).values({column: edited}))
    assert any("(person_token) does not match the record it logs" in p for p in problems(town))


def test_the_self_check_catches_a_token_row_deleted(town: Town) -> None:
    person = town.person("被删者")
    town.services.person_tokens.issue(person, ["login_link"], now=town.clock.now(), ttl=days(1))
    with town.services.db.write() as conn:
        conn.execute(delete(t.person_tokens))
    assert any("(person_token) has no stored record" in p for p in problems(town))


@pytest.mark.parametrize(
    ("who", "ttl", "code"),
    [
        ("nobody", timedelta(hours=1), "person_token.person_unknown"),
        ("0" * 32, timedelta(hours=1), "person_token.person_unknown"),
        ("not a key\x00", timedelta(hours=1), "person_token.person_unknown"),
        ("known", timedelta(0), "person_token.ttl_invalid"),
        ("known", timedelta(days=7, seconds=1), "person_token.ttl_invalid"),
        ("known", timedelta(hours=-5), "person_token.ttl_invalid"),
    ],
)
def test_an_unknown_person_or_a_lifetime_out_of_bounds_is_refused_with_nothing_written(
    town: Town, who: str, ttl: timedelta, code: str
) -> None:
    person = town.person("已登记") if who == "known" else who
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        town.services.person_tokens.issue(
            person, ["bearer", "login_link"], now=town.clock.now(), ttl=ttl
        )
    assert refused.value.code == code
    assert person not in str(refused.value)  # no person key in the refusal (personal data)
    assert counts(town.services.db) == before


def test_a_failure_after_the_entries_leaves_neither_entry_nor_row(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries and the rows are one transaction: a row that cannot be written (here, the
    second) takes the entries with it."""
    person = town.person("原子")
    written = []

    def insert_then_fail(conn, issued):  # type: ignore[no-untyped-def]
        if written:
            raise RuntimeError("the store went away")
        written.append(issued)
        real_insert(conn, issued)

    real_insert = repo.insert
    monkeypatch.setattr(repo, "insert", insert_then_fail)
    before = counts(town.services.db)
    with pytest.raises(RuntimeError):
        town.services.person_tokens.issue(
            person, ["bearer", "login_link"], now=town.clock.now(), ttl=days(1)
        )
    assert written and counts(town.services.db) == before
