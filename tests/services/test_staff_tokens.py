"""Staff tokens the operator issues (`Staff.issue_token`, ``healthcode admin staff-token``):
each is a ``staff_token`` entry logged with its row in one transaction, naming the member by
an actor tag oversight opens, their role, the token's validity and that the operator issued
it; its claims say so; each co-signature, refusal or case step made with it is a
``staff_token_use`` entry naming the act's; the self-check rebuilds both from their rows and
catches an edited one; and ``operator_tokens`` opens a case for a token used to act, none for
one left unused. On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from healthcode.domain.designations import RiskLevel
from healthcode.domain.log_entries import actor_tag, instant_text
from healthcode.domain.orders import OrderKind
from healthcode.domain.oversight import staff_token_ref
from healthcode.errors import HealthcodeError
from healthcode.oversight.detectors.staff_tokens import OperatorTokens
from healthcode.oversight.runner import run_detectors
from healthcode.services.access import Reader
from healthcode.services.designations import DesignationRequest
from healthcode.services.entry_opening import load_oversight_key
from healthcode.services.orders import (
    Actor,
    IssuedOrders,
    OrderRequest,
    PersonEvidence,
    staff_secret_key,
)
from healthcode.services.tokens import STAFF_AUDIENCE, Claims
from healthcode.store import tables as t
from tests.counting import counts
from tests.dcc_cases import signer_of
from tests.log_rows import stored
from tests.services.test_order_refusals import (
    OFFICIAL,
    SUPERVISOR_2,
    bulk,
    entries_after,
    log_size,
)
from tests.town import ERQI, Town, days


def issue(town: Town, badge: str = "zz-sup-2", minutes: float = 15) -> Claims:
    token = town.services.staff.issue_token(
        badge, now=town.clock.now(), ttl=timedelta(minutes=minutes)
    )
    return town.services.tokens.verify(token, audience=STAFF_AUDIENCE, now=town.clock.now())


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def test_an_issued_token_is_logged_with_its_row_and_says_the_operator_issued_it(
    town: Town,
) -> None:
    town.register_staff()
    size = log_size(town)
    claims = issue(town, "zz-sup-1")
    assert (claims.subject, claims.role, claims.operator_issued) == ("zz-sup-1", "supervisor", True)
    [(index, kind, body)] = entries_after(town, size)
    secret = town.services.secrets.secret(staff_secret_key("zz-sup-1"))
    assert kind == "staff_token"
    assert json.loads(body)["data"] == {
        "staff": actor_tag(secret, index), "role": "supervisor", "authority": "zz-health",
        "issued_by": "operator", "valid_from": instant_text(claims.issued_at),
        "valid_until": instant_text(claims.expires_at),
    }  # fmt: skip
    assert claims.expires_at - claims.issued_at == timedelta(minutes=15)
    assert b"zz-sup-1" not in body  # the member only as a tag, as in their acts' entries
    with town.services.db.read() as conn:
        row = conn.execute(t.staff_tokens.select()).one()
    assert (row.token_id, row.staff_id, row.log_index) == (claims.token_id, "zz-sup-1", index)
    assert problems(town) == []
    # Oversight, with its own key, learns whose token it was from the escrows alone.
    key = town.services.settings.data_dir / "keys" / "oversight-escrow.x25519"
    opened = town.services.entry_opening.open(
        [index], load_oversight_key(key.read_bytes()), auditor="auditor-1", now=town.clock.now()
    )
    [spot] = opened.entries[0].spots
    assert (spot.spot.field, spot.owner) == ("staff", staff_secret_key("zz-sup-1"))
    # A member's own sign-in is no operator's token, and is not logged as one: it is logged
    # as a sign-in (domain/staff_sign_ins.py).
    size = log_size(town)
    signed_in = town.services.staff.sign_in("zz-off-1", "correct horse 1", now=town.clock.now())
    verified = town.services.tokens.verify(signed_in, audience=STAFF_AUDIENCE, now=town.clock.now())
    assert not verified.operator_issued
    assert [kind for _, kind, _ in entries_after(town, size)] == ["staff_sign_in"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("role", "official"),
        ("staff_id", "zz-sup-1"),
        ("valid_until", "later"),
    ],
)
def test_the_self_check_catches_an_edited_token_row(town: Town, column: str, value: str) -> None:
    town.register_staff()
    claims = issue(town)
    edited = claims.expires_at + days(30) if value == "later" else value
    with town.services.db.write() as conn:
        conn.execute(update(t.staff_tokens).values({column: edited}))
    assert any("(staff_token) does not match the record it logs" in p for p in problems(town))


def test_the_self_check_catches_a_token_row_deleted(town: Town) -> None:
    town.register_staff()
    issue(town)
    with town.services.db.write() as conn:
        conn.execute(delete(t.staff_tokens))
    assert any("(staff_token) has no stored record" in p for p in problems(town))


@pytest.mark.parametrize(
    ("badge", "minutes", "code"),
    [
        ("zz-nobody", 15, "staff_token.member_unknown"),
        ("not a badge\x00", 15, "staff_token.member_unknown"),
        ("zz-sup-1", 0, "staff_token.ttl_invalid"),
        ("zz-sup-1", 12 * 60 + 1, "staff_token.ttl_invalid"),
        ("zz-sup-1", -5, "staff_token.ttl_invalid"),
    ],
)
def test_an_unknown_badge_or_a_lifetime_out_of_bounds_is_refused_with_nothing_written(
    town: Town, badge: str, minutes: int, code: str
) -> None:
    town.register_staff()
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        issue(town, badge, minutes)
    assert refused.value.code == code
    assert counts(town.services.db) == before


def test_a_co_signature_made_with_it_is_logged_as_made_with_it_and_opens_a_case(
    town: Town,
) -> None:
    town.register_staff()
    request_id, _ = bulk(town)
    unused = issue(town, "zz-sup-1")  # issued, never used: in the log, no case
    claims = issue(town)
    size = log_size(town)
    operator = replace(SUPERVISOR_2, operator_token=claims.token_id)
    town.services.orders.cosign(operator, request_id, now=town.clock.now())
    logged = entries_after(town, size)
    [cosign] = [index for index, kind, _ in logged if kind == "order_cosign"]
    [(use, _, body)] = [entry for entry in logged if entry[1] == "staff_token_use"]
    with town.services.db.read() as conn:
        token_index = (
            conn.execute(
                t.staff_tokens.select().where(t.staff_tokens.c.token_id == claims.token_id)
            )
            .one()
            .log_index
        )
    assert json.loads(body)["data"] == {
        "token": token_index, "entry": cosign, "act": "order_cosign",
        "at": instant_text(town.clock.now()),
    }  # fmt: skip
    assert use > cosign and problems(town) == []
    now = town.clock.now() + days(1)
    with town.services.db.read() as conn:
        [run] = run_detectors(conn, now=now, detectors=[OperatorTokens()])
    [finding] = run.findings
    assert finding.subject == "official:zz-sup-2" and finding.score == 1.0
    assert finding.records == (staff_token_ref(claims.token_id),)
    assert staff_token_ref(unused.token_id) not in finding.records
    assert "order_cosign × 1" in finding.summary_en
    summary = town.services.oversight.run(now, detectors=[OperatorTokens()])
    assert len(summary.new_cases) == 1
    [case] = town.services.oversight.cases()
    assert case.finding is not None and case.finding.detector == "operator_tokens"
    assert town.services.oversight.run(now, detectors=[OperatorTokens()]).new_cases == []
    assert problems(town) == []


def test_the_self_check_catches_a_use_moved_onto_another_act_or_deleted(town: Town) -> None:
    town.register_staff()
    request_id, _ = bulk(town)
    claims = issue(town)
    operator = replace(SUPERVISOR_2, operator_token=claims.token_id)
    town.services.orders.cosign(operator, request_id, now=town.clock.now())
    with town.services.db.write() as conn:
        conn.execute(update(t.staff_token_uses).values(act_index=0))
    found = problems(town)
    assert any("(staff_token_use) does not match the record it logs" in p for p in found)
    assert any("names entry 0 as its act (order_cosign)" in p for p in found)
    with town.services.db.write() as conn:
        conn.execute(delete(t.staff_token_uses))
    assert any("(staff_token_use) has no stored record" in p for p in problems(town))


def test_an_operator_token_never_logged_acts_for_no_one(town: Town) -> None:
    town.register_staff()
    request_id, _ = bulk(town)
    before = counts(town.services.db)
    forged = replace(SUPERVISOR_2, operator_token="0" * 32)
    with pytest.raises(HealthcodeError) as refused:
        town.services.orders.cosign(forged, request_id, now=town.clock.now())
    assert refused.value.code == "auth.invalid_token"
    assert counts(town.services.db) == before  # the co-signature rolled back with it


@pytest.mark.parametrize("when", ["at_expiry", "before_issue"])
def test_an_act_outside_its_tokens_logged_validity_is_refused_with_nothing_written(
    town: Town, when: str
) -> None:
    """The token is checked when the request comes in, the act is dated a moment later (and
    another host's clock may run behind the one that issued it): an act dated outside the
    validity its ``staff_token`` entry states is refused, not logged as a use the self-check
    then reports (and halts the log for)."""
    town.register_staff()
    request_id, _ = bulk(town)
    town.clock.advance(minutes=5)  # issued after the rulebook and the request
    claims = issue(town)
    operator = replace(SUPERVISOR_2, operator_token=claims.token_id)
    at = claims.expires_at if when == "at_expiry" else claims.issued_at - timedelta(seconds=1)
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        town.services.orders.cosign(operator, request_id, now=at)
    assert refused.value.code == "auth.invalid_token"
    assert counts(town.services.db) == before
    assert problems(town) == []


def contact(town: Town) -> PersonEvidence:
    """A person (p-1) named with a contact record of their own, for an order."""
    person = town.person("p-1", home=ERQI)
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    return PersonEvidence(person, (f"cdc-1/{record['record_id']}",))


def one_order(town: Town, by: Actor, named: PersonEvidence, at: datetime) -> IssuedOrders:
    """An order for one person (in force at once)."""
    request = OrderRequest(
        kind=OrderKind.CLOSE_CONTACT_QUARANTINE, legal_basis="idl-art-41-quarantine",
        persons=(named,), valid_until=at + days(10),
    )  # fmt: skip
    return town.services.orders.issue(by, request, now=at)


def test_a_token_used_only_to_issue_an_order_opens_a_case(town: Town) -> None:
    """An order is the official's own act, no two-person decision: made with the operator's
    token, it is the operator's all the same."""
    town.register_staff()
    claims = issue(town, "zz-off-1")
    named = contact(town)
    size = log_size(town)
    official = replace(OFFICIAL, operator_token=claims.token_id)
    [order] = one_order(town, official, named, town.clock.now()).orders
    [(use, _, body)] = [
        entry for entry in entries_after(town, size) if entry[1] == "staff_token_use"
    ]
    assert json.loads(body)["data"]["entry"] == order.log_index and use == order.log_index + 1
    now = town.clock.now() + days(1)
    with town.services.db.read() as conn:
        [run] = run_detectors(conn, now=now, detectors=[OperatorTokens()])
    [finding] = run.findings
    assert finding.subject == "official:zz-off-1" and "order × 1" in finding.summary_en
    assert finding.records == (staff_token_ref(claims.token_id),)
    assert len(town.services.oversight.run(now, detectors=[OperatorTokens()]).new_cases) == 1
    assert problems(town) == []


@pytest.mark.parametrize("act", ["order", "designation", "access"])
@pytest.mark.parametrize("token", ["never_logged", "another_members", "expired"])
def test_an_operators_token_the_log_does_not_back_acts_for_no_one(
    town: Town, act: str, token: str
) -> None:
    """The rules of a co-signature hold for every act: a token never logged, one issued to
    another member, or used outside its logged validity is refused with its act (an order, a
    designation, a read of a record), nothing written."""
    town.register_staff()
    named = contact(town)
    at = town.clock.now()
    if token == "never_logged":
        token_id = "0" * 32
    else:
        claims = issue(town, "zz-sup-1" if token == "another_members" else "zz-off-1")
        token_id = claims.token_id
        at = claims.expires_at if token == "expired" else at
    official = replace(OFFICIAL, operator_token=token_id)
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        if act == "order":
            one_order(town, official, named, at)
        elif act == "designation":
            town.services.designations.designate_as(official, DesignationRequest(
                id="d-op", area=ERQI, level=RiskLevel.MEDIUM, valid_from=at,
                valid_to=at + days(1), authority_id="zz-health", case_count=1, basis="1 case",
            ), now=at)  # fmt: skip
        else:
            reader = Reader(official.id, official.role, official.authority_id,
                            official.jurisdiction, token_id)  # fmt: skip
            town.services.access.read(reader, named.person, "contact_tracing", now=at)
    assert refused.value.code == "auth.invalid_token"
    assert counts(town.services.db) == before
    assert problems(town) == []


def test_the_self_check_catches_a_registry_use_moved_onto_another_registration(
    town: Town,
) -> None:
    """The self-check rebuilds no registration; a use naming a ``registry`` act is checked
    against the rows that name one (here a source revoked), so it cannot be moved onto the
    registration of another."""
    town.register_staff()
    claims = issue(town)
    operator = replace(SUPERVISOR_2, operator_token=claims.token_id)
    town.services.sources.revoke(operator, "scan-1", reason="decommissioned", now=town.clock.now())
    assert problems(town) == []
    with town.services.db.read() as conn:
        registration = min(i for i, kind, _ in stored(conn) if kind == "registry")
    with town.services.db.write() as conn:
        conn.execute(update(t.staff_token_uses).values(act_index=registration))
    assert any(f"names entry {registration} as its act (registry)" in p for p in problems(town))


def test_a_supervisors_registry_acts_are_logged_as_made_with_it(town: Town) -> None:
    """A DCC signer trusted and removed, an issuer key revoked: each ``registry`` entry of the
    act has its use; what the act causes (the country's source registered, a new issuer key,
    the trust list republished) has none, and the self-check rebuilds every use."""
    town.register_staff()
    town.services.passes.issue_pass(town.person("p-1", home=ERQI), town.clock.now())
    with town.services.db.read() as conn:
        key_id = conn.scalar(
            select(t.trust_keys.c.key_id).where(t.trust_keys.c.issuer == "zz-health")
        )
    claims = issue(town)
    size = log_size(town)
    signer = signer_of("common/2DCode/raw/CO12.json", "AT")
    dcc, now = town.services.dcc_trust, town.clock.now()
    [added], _ = dcc.add([signer], by="zz-sup-2", authority="zz-health", now=now,
                         operator_token=claims.token_id)  # fmt: skip
    dcc.remove(added.kid, reason="superseded", by="zz-sup-2", authority="zz-health", now=now,
               operator_token=claims.token_id)  # fmt: skip
    operator = replace(SUPERVISOR_2, operator_token=claims.token_id)
    town.services.trust_lists.revoke(operator, key_id, reason="superseded", now=now)
    logged = entries_after(town, size)
    named = {
        json.loads(body)["data"]["entry"]: json.loads(body)["data"]["act"]
        for _, kind, body in logged
        if kind == "staff_token_use"
    }
    acts = {
        index: json.loads(body)["data"]["what"]
        for index, kind, body in logged
        if kind == "registry"
    }
    assert sorted(acts[index] for index in named) == [
        "dcc_signer", "dcc_signer_removal", "trust_key_revocation",
    ]  # fmt: skip
    assert set(named.values()) == {"registry"} and len(acts) > len(named)
    assert problems(town) == []


def test_a_dcc_signer_trusted_again_keeps_the_earlier_uses_its_acts(town: Town) -> None:
    """A signer trusted, removed and trusted again with the operator's token: its row now
    names only the last ``dcc_signer`` entry, but the first trust and the removal were acts
    too, and their uses still name them (no false report from the self-check); a use moved
    onto a registry entry that is no such act is still reported."""
    town.register_staff()
    claims = issue(town)
    signer = signer_of("common/2DCode/raw/CO12.json", "AT")
    dcc, now = town.services.dcc_trust, town.clock.now()
    for _ in range(2):
        [added], _n = dcc.add([signer], by="zz-sup-2", authority="zz-health", now=now,
                              operator_token=claims.token_id)  # fmt: skip
        dcc.remove(added.kid, reason="superseded", by="zz-sup-2", authority="zz-health",
                   now=now, operator_token=claims.token_id)  # fmt: skip
    assert problems(town) == []
    with town.services.db.read() as conn:
        registration = min(i for i, kind, _ in stored(conn) if kind == "registry")
    with town.services.db.write() as conn:
        first = conn.scalar(select(func.min(t.staff_token_uses.c.log_index)))
        conn.execute(
            update(t.staff_token_uses)
            .where(t.staff_token_uses.c.log_index == first)
            .values(act_index=registration)
        )
    assert any(f"names entry {registration} as its act (registry)" in p for p in problems(town))
