"""EU DCCs a person submits become evidence of the matching kind, attributed to the issuing
country's signer; a DCC of someone else, an expired one, one whose signer lacks the key usage,
a tampered one and an unknown signer's are refused with specific codes and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from healthcode.domain.dcc import DCC_AREA, DCC_AUTHORITY
from healthcode.errors import HealthcodeError, InputRejected
from healthcode.services.clock import FixedClock
from healthcode.services.dcc_trust import OPERATOR, SignerCertificate
from healthcode.services.tokens import PERSON_AUDIENCE
from healthcode.sim.identities import demo_identity
from healthcode.store import tables as t
from tests.counting import counts
from tests.dcc_cases import (
    DATA_EPOCH,
    Issuer,
    clock_of,
    holder_of,
    signer_of,
    text_of,
    with_payload_changed,
    with_signature_flipped,
)
from tests.log_rows import stored
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town

AT_VACCINATION, AT_RECOVERY, AT_TEST = (f"AT/2DCode/raw/{n}.json" for n in (1, 2, 3))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DATA_EPOCH)


def trust(town: Town, name: str, country: str) -> None:
    town.services.dcc_trust.add([signer_of(name, country)], by=OPERATOR, authority=None,
                                now=town.clock.now())  # fmt: skip


def holder(town: Town, name: str, label: str = "holder") -> str:
    latin, born = holder_of(name)
    return town.person(label, latin_name=latin, birth_date=born)


def submit(town: Town, person: str, text: str, **kwargs: Any) -> Any:
    return town.services.dcc.submit(person, text, now=town.clock.now(), **kwargs)


def refused(town: Town, code: str, attempt: Callable[[], object]) -> None:
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as caught:
        attempt()
    assert caught.value.code == code, caught.value
    assert counts(town.services.db) == before


@pytest.mark.parametrize(
    ("name", "country", "kind", "details"),
    [
        (AT_TEST, "AT", "test_result", {"method": "pcr", "result": "negative"}),
        ("AT/2DCode/raw/4.json", "AT", "test_result", {"method": "antigen", "result": "negative"}),
        (AT_VACCINATION, "AT", "vaccination", {"vaccine": "EU/1/20/1528", "dose": 1}),
        (AT_RECOVERY, "AT", "recovery", {}),
        ("DE/2DCode/raw/1.json", "DE", "vaccination", {"vaccine": "EU/1/20/1507", "dose": 2}),
        ("SE/2DCode/raw/5.json", "SE", "recovery", {}),
        ("CZ/2DCode/raw/14.json", "CZ", "test_result", {"method": "antigen", "result": "negative"}),
    ],
)
def test_a_valid_dcc_becomes_evidence_of_its_kind(
    town: Town, name: str, country: str, kind: str, details: dict[str, Any]
) -> None:
    trust(town, name, country)
    town.clock.set(clock_of(name))
    person = holder(town, name)
    receipt = submit(town, person, text_of(name))
    assert (receipt.kind, receipt.details, receipt.country) == (kind, details, country)
    assert receipt.source_id == f"dcc-{country}" and not receipt.already_present
    with town.services.db.read() as conn:
        row = conn.execute(select(t.evidence).where(t.evidence.c.person_key == person)).one()
        source = conn.execute(select(t.sources).where(t.sources.c.id == row.source_id)).one()
    assert (row.kind, row.area_code, source.authority_id) == (kind, DCC_AREA, DCC_AUTHORITY)
    # The status lists it, attributed to the issuing country's source.
    view = town.services.explanations.explain(person, now=town.clock.now())
    assert town.status(person) == ("green", "no-risk")
    assert view.status.colour == "green"
    # Submitting the same certificate again (as text or later) changes nothing.
    before = counts(town.services.db)
    town.clock.advance(minutes=5)
    again = submit(town, person, text_of(name))
    assert again.already_present and again.ref == receipt.ref
    assert counts(town.services.db) == before
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_a_positive_dcc_test_makes_red_until_a_dcc_recovery(town: Town) -> None:
    """The EU data holds no positive test, so a test-only issuer signs one."""
    issuer = Issuer()
    town.services.dcc_trust.add([issuer.signer], by=OPERATOR, authority=None, now=town.clock.now())
    person = town.person("traveller", latin_name=("Zhang", "Wei"), birth_date=date(1990, 1, 2))
    town.clock.set(DATA_EPOCH + timedelta(days=9))
    sampled = DATA_EPOCH + timedelta(days=8)
    positive = issuer.test("Zhang", "Wei", "1990-01-02", sampled=sampled, positive=True)
    receipt = submit(town, person, issuer.issue(positive, issued=sampled + timedelta(hours=6)))
    assert (receipt.kind, receipt.details) == (
        "test_result",
        {"method": "pcr", "result": "positive"},
    )
    assert receipt.status_changes == 1
    assert town.status(person) == ("red", "confirmed-case")
    town.clock.set(DATA_EPOCH + timedelta(days=21))
    recovery = issuer.recovery("Zhang", "Wei", "1990-01-02", first_positive=sampled.date())
    submit(town, person, issuer.issue(recovery, issued=town.clock.now() - timedelta(hours=1)))
    assert town.status(person) == ("green", "no-risk")
    assert [colour for colour, *_ in town.history(person)] == ["red", "green"]
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_a_dcc_of_another_person_is_refused(town: Town) -> None:
    trust(town, AT_TEST, "AT")
    town.clock.set(clock_of(AT_TEST))
    (family, given), born = holder_of(AT_TEST)
    text = text_of(AT_TEST)
    other_name = town.person("other-name", latin_name=("Mustermann", given), birth_date=born)
    refused(town, "dcc.not_holder", lambda: submit(town, other_name, text))
    other_dob = town.person("other-dob", latin_name=(family, given), birth_date=date(1998, 2, 27))
    refused(town, "dcc.not_holder", lambda: submit(town, other_dob, text))
    other_given = town.person("other-given", latin_name=(family, "Maria"), birth_date=born)
    refused(town, "dcc.not_holder", lambda: submit(town, other_given, text))
    no_identity = town.person("no-identity")
    refused(town, "dcc.identity_missing", lambda: submit(town, no_identity, text))
    # The holder's own submission is accepted; then no one else can claim the certificate.
    owner = town.person("owner", latin_name=(family, given), birth_date=born)
    submit(town, owner, text)
    namesake = town.person("namesake", latin_name=(family, given), birth_date=born)
    refused(town, "dcc.conflict", lambda: submit(town, namesake, text))


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # EXPECTEDEXPIRATIONCHECK false: the clock is after exp, or before iat.
        ("common/2DCode/raw/CO17.json", "dcc.expired"),
        ("common/2DCode/raw/CO16.json", "dcc.not_yet_valid"),
        # EXPECTEDKEYUSAGE false: the signer's extended key usage names other kinds.
        ("common/2DCode/raw/CO6.json", "dcc.key_usage"),
        ("common/2DCode/raw/CO7.json", "dcc.key_usage"),
        ("common/2DCode/raw/CO8.json", "dcc.key_usage"),
        ("common/2DCode/raw/CO9.json", "dcc.key_usage"),
        ("common/2DCode/raw/CO10.json", "dcc.key_usage"),
        ("common/2DCode/raw/CO11.json", "dcc.key_usage"),
        ("IS/2DCode/raw/3.json", "dcc.key_usage"),
        # EXPECTEDVERIFY false: the signature does not verify.
        ("common/2DCode/raw/CO5.json", "dcc.signature"),
    ],
)
def test_a_dcc_the_verifier_refuses_changes_nothing(town: Town, name: str, code: str) -> None:
    trust(town, name, "IS" if name.startswith("IS") else "AT")
    town.clock.set(clock_of(name))
    person = holder(town, name)
    refused(town, code, lambda: submit(town, person, text_of(name)))


def test_a_tampered_dcc_is_refused(town: Town) -> None:
    trust(town, AT_TEST, "AT")
    town.clock.set(clock_of(AT_TEST))
    forger = town.person("forger", latin_name=("Li", "Ming"), birth_date=date(1985, 5, 5))

    def mine(dcc: dict[str, Any]) -> None:
        dcc["nam"] = {"fn": "Li", "fnt": "LI", "gn": "Ming", "gnt": "MING"}
        dcc["dob"] = "1985-05-05"

    refused(
        town,
        "dcc.signature",
        lambda: submit(town, forger, with_payload_changed(text_of(AT_TEST), mine)),
    )
    holder_key = holder(town, AT_TEST)
    flipped = with_signature_flipped(text_of(AT_TEST))
    refused(town, "dcc.signature", lambda: submit(town, holder_key, flipped))


def test_unknown_signers_and_malformed_text_are_refused(town: Town) -> None:
    town.clock.set(clock_of(AT_TEST))
    person = holder(town, AT_TEST)
    refused(town, "dcc.unknown_signer", lambda: submit(town, person, text_of(AT_TEST)))
    trust(town, AT_TEST, "AT")
    for text, code in [
        ("hello", "dcc.prefix"),
        ("HC1:%%%", "dcc.base45"),
        ("HC1:" + "A" * 20_000, "dcc.too_large"),
        (text_of("common/2DCode/raw/Z1.json"), "dcc.zlib"),
        (text_of("common/2DCode/raw/CBO2.json"), "dcc.cose"),
    ]:
        refused(town, code, lambda text=text: submit(town, person, text))


def test_a_removed_signer_is_refused_from_then_on_and_both_changes_are_logged(town: Town) -> None:
    trust(town, AT_TEST, "AT")
    town.clock.set(clock_of(AT_TEST))
    person = holder(town, AT_TEST)
    submit(town, person, text_of(AT_TEST))
    signer = town.services.dcc_trust.signers()[0]
    town.services.dcc_trust.remove(
        signer.kid, reason="key_compromised", by="zz-sup-1", authority="zz-health",
        now=town.clock.now(),
    )  # fmt: skip
    refused(town, "dcc.unknown_signer", lambda: submit(town, person, text_of(AT_VACCINATION)))
    with town.services.db.read() as conn:
        bodies = [body for _, kind, body in stored(conn) if kind == "registry"]
        evidence = conn.scalar(select(t.evidence.c.kind).where(t.evidence.c.person_key == person))
    assert any(b'"what":"dcc_signer"' in b for b in bodies)
    assert any(b'"what":"dcc_signer_removal"' in b and b'"key_compromised"' in b for b in bodies)
    assert any(b'"what":"source"' in b and b'"dcc-AT"' in b for b in bodies)
    assert evidence == "test_result"  # what it verified before stays: history is not rewritten
    # Trusting it again lets it through again; adding it twice logs it once.
    before = counts(town.services.db)["log entries"]
    trust(town, AT_TEST, "AT")
    trust(town, AT_TEST, "AT")
    assert counts(town.services.db)["log entries"] == before + 1
    submit(town, person, text_of(AT_VACCINATION))
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_a_trust_list_entry_must_be_a_usable_certificate_of_its_country(town: Town) -> None:
    issuer = Issuer(country="XA")
    common = signer_of("common/2DCode/raw/CO12.json", "AT").certificate
    for item in [
        SignerCertificate(b"not a certificate", "AT"),
        SignerCertificate(issuer.certificate, "DE"),  # its subject says XA
        SignerCertificate(common, None),  # no country given, none in the certificate
        SignerCertificate(common, "Austria"),
        signer_of("common/2DCode/raw/CO15.json", "AT"),  # a malformed extended key usage
    ]:
        refused(
            town,
            "dcc.trust_list",
            lambda item=item: town.services.dcc_trust.add(
                [item], by=OPERATOR, authority=None, now=town.clock.now()
            ),
        )


def test_a_guardian_submits_for_a_dependant_only(town: Town) -> None:
    trust(town, AT_TEST, "AT")
    town.clock.set(clock_of(AT_TEST))
    child = holder(town, AT_TEST, "child")
    parent = town.person("parent")
    stranger = town.person("stranger")
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    refused(town, "auth.forbidden", lambda: submit(town, stranger, text_of(AT_TEST), holder=child))
    receipt = submit(town, parent, text_of(AT_TEST), holder=child)
    assert receipt.person_key == child
    # The certificate is matched to the dependant, not to the guardian.
    refused(town, "dcc.identity_missing", lambda: submit(town, parent, text_of(AT_VACCINATION)))


def test_batches_may_not_name_a_dcc_source(town: Town) -> None:
    trust(town, AT_TEST, "AT")
    person = town.person("p")
    body = town.batch("lab-1", [town.record("test_result", person, town.clock.now(),
                                             area=DCC_AREA, method="pcr", result="positive")])  # fmt: skip
    body["source"] = "dcc-AT"
    with pytest.raises(InputRejected) as caught:
        town.services.intake.submit(body, now=town.clock.now())
    assert caught.value.code == "source.unknown"


def test_an_event_after_the_clock_is_refused(town: Town) -> None:
    name = "SK/2DCode/raw/1.json"  # vaccinated (dt) after the case's own validation clock
    trust(town, name, "SK")
    town.clock.set(clock_of(name))
    person = holder(town, name)
    refused(town, "evidence.time_in_future", lambda: submit(town, person, text_of(name)))


def test_demo_residents_are_registered_with_what_a_dcc_is_matched_on(town: Town) -> None:
    """The demo city registers passport names (pinyin) and dates of birth for its residents."""
    issuer = Issuer()
    town.services.dcc_trust.add([issuer.signer], by=OPERATOR, authority=None, now=town.clock.now())
    residents = [("demo-1-0000001", "王伟", "410102"), ("demo-1-0000002", "陈思雨", "410103")]
    identities = [demo_identity(identity_id, name) for identity_id, name, _ in residents]
    keys = town.services.identity.register_many(
        residents, now=town.clock.now(), identities=identities
    )
    assert [(i.family_name, i.given_name) for i in identities] == [
        ("WANG", "WEI"),
        ("CHEN", "SIYU"),
    ]
    assert town.services.identity.holder_identity(keys[1]) == identities[1]
    town.clock.set(DATA_EPOCH + timedelta(days=3))
    born = identities[1].birth_date
    assert born is not None
    dcc = issuer.test(
        "Chen", "Siyu", born.isoformat(), sampled=DATA_EPOCH + timedelta(days=2), positive=False
    )
    text = issuer.issue(dcc, issued=DATA_EPOCH + timedelta(days=2))
    refused(town, "dcc.not_holder", lambda: submit(town, keys[0], text))
    assert submit(town, keys[1], text).kind == "test_result"


def test_a_dcc_submitted_with_an_operators_token_is_logged_as_made_with_it(town: Town) -> None:
    """The certificate's batch is the act (services/person_token_uses.py): one
    ``person_token_use`` names its entry; the same certificate again is no act, and writes
    nothing; a token never logged submits nothing."""
    trust(town, AT_TEST, "AT")
    town.clock.set(clock_of(AT_TEST))
    person = holder(town, AT_TEST)
    [token] = town.services.person_tokens.issue(
        person, ["bearer"], now=town.clock.now(), ttl=timedelta(hours=1)
    )
    claims = town.services.tokens.check(token, audience=PERSON_AUDIENCE, now=town.clock.now())
    refused(town, "auth.invalid_token", lambda: submit(
        town, person, text_of(AT_TEST), operator_token="0" * 32
    ))  # fmt: skip
    size = log_size(town)
    submit(town, person, text_of(AT_TEST), operator_token=claims.operator_token)
    logged = {kind: (index, body) for index, kind, body in entries_after(town, size)}
    use = json.loads(logged["person_token_use"][1])["data"]
    assert (use["entry"], use["act"]) == (logged["evidence_batch"][0], "evidence_batch")
    before = counts(town.services.db)
    assert submit(
        town, person, text_of(AT_TEST), operator_token=claims.operator_token
    ).already_present
    assert counts(town.services.db) == before
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
