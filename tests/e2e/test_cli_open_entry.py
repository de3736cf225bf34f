"""`healthcode oversight open-entry`: oversight, with its own private key, learns whom a log
entry names (a status change's person, an order's person and official, a finding's household
and official) from the escrows alone, and each person named sees the opening as an access
record; a wrong, malformed or missing key, an unknown index and a reader who is not an auditor
are refused with nothing written. On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.cli.oversight import PASSWORD_VARIABLE
from healthcode.domain.designations import RiskLevel
from healthcode.domain.oversight import Finding
from healthcode.oversight.api import DetectorContext
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from tests.counting import counts
from tests.log_rows import stored
from tests.services.test_order_refusals import SUPERVISOR_2, bulk
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ_OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))


@dataclass
class HandMade:
    findings: list[Finding] = field(default_factory=list)
    name: str = "hand_made"
    title_zh: str = "手工检测器"
    title_en: str = "hand-made detector"

    def run(self, context: DetectorContext) -> Iterable[Finding]:
        return list(self.findings)


@dataclass
class Logged:
    alice: str  # turned red by a positive test: a status change names her
    bob: str  # ordered into quarantine by zz-off-1: an order names both
    status_change: int
    order: int
    household: int  # a finding about a household: a commitment under the finding's secret
    official: int  # a finding about zz-off-1: their actor tag


AUDITOR_PASSWORD = "correct horse 1"  # also zz-off-1's: a refusal of them is for their role


@pytest.fixture
def cli(town: Town, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.oversight.services", lambda: town.services)
    # The auditor signs in (`register_staff` later keeps the password set here).
    town.services.staff.register(
        [{"id": "auditor-1", "role": "auditor", "name": "监督员", "password": AUDITOR_PASSWORD}],
        now=town.clock.now(),
    )
    # The assertions read the English lines.
    return CliRunner(env={"LC_ALL": "en_US.UTF-8", PASSWORD_VARIABLE: AUDITOR_PASSWORD})


@pytest.fixture
def key(town: Town) -> Path:
    """Oversight's private key, where the test deployment (as the demo) keeps it."""
    return town.services.settings.data_dir / "keys" / "oversight-escrow.x25519"


def last(town: Town, kind: str) -> int:
    with town.services.db.read() as conn:
        return [index for index, found, _ in stored(conn) if found == kind][-1]


def finding(town: Town, subject: str, *records: str) -> Finding:
    now = town.clock.now()
    return Finding(
        detector="hand_made", subject=subject, summary_zh="异常", summary_en="stands out",
        score=4.0, window_from=now - days(1), window_to=now, records=tuple(sorted(records)),
    )  # fmt: skip


@pytest.fixture
def logged(town: Town) -> Logged:
    town.register_staff()
    alice, bob = town.person("alice"), town.person("bob", home=ERQI)
    town.test(alice, town.clock.now() - timedelta(hours=1), "positive")
    status_change = last(town, "status_change")
    record = town.record(
        "close_contact", bob, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    town.services.orders.issue(ZZ_OFFICIAL, OrderRequest(
        kind="close_contact_quarantine",  # type: ignore[arg-type]
        legal_basis="idl-art-41-quarantine",
        persons=(PersonEvidence(bob, (f"cdc-1/{record['record_id']}",)),),
        valid_until=town.clock.now() + days(10),
    ), now=town.clock.now())  # fmt: skip
    order = last(town, "order")
    town.services.oversight.run(town.clock.now(), detectors=[HandMade([
        finding(town, "household:hh-42", "evidence:cdc-1/r3", "order:ord-3"),
        finding(town, "official:zz-off-1", "order:ord-1"),
    ])])  # fmt: skip
    with town.services.db.read() as conn:
        findings = {
            json.loads(body)["data"]["subject_kind"]: index
            for index, kind, body in stored(conn)
            if kind == "oversight_finding"
        }
    return Logged(alice, bob, status_change, order, findings["household"], findings["official"])


def test_oversight_opens_whom_each_entry_names_and_each_person_sees_it(
    cli: CliRunner, town: Town, key: Path, logged: Logged
) -> None:
    opened = cli.invoke(app, [
        "oversight", "open-entry", str(logged.status_change), str(logged.order),
        str(logged.household), str(logged.official), "--key", str(key), "--auditor", "auditor-1",
    ])  # fmt: skip
    assert opened.exit_code == 0, opened.output
    blocks = {
        int(block.split(":")[0]): block for block in opened.output.split("entry ")[1:] if block
    }
    change = blocks[logged.status_change]
    assert "status_change" in change and f"person {logged.alice}" in change
    assert f"commitment under the secret of person {logged.alice}" in change  # the inputs
    order = blocks[logged.order]
    assert f"person {logged.bob}" in order and "staff zz-off-1" in order
    assert logged.alice not in order
    household = blocks[logged.household]
    assert "= household:hh-42" in household  # checked against the stored finding
    assert "the 2 records stored with fnd-" in household
    assert "staff zz-off-1" in blocks[logged.official]
    assert "no escrow opens it" not in opened.output
    # Each person named sees the opening, as any read of their record by someone else.
    for person in (logged.alice, logged.bob):
        [access] = town.services.access.of_person(person)
        assert (access.accessor_id, access.accessor_role, access.purpose) == (
            "auditor-1", "auditor", "oversight_case",
        )  # fmt: skip
        assert str(access.log_index) in opened.output
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems  # the access records are entries like any other


def test_people_narrow_the_search_and_only_those_named_are_recorded(
    cli: CliRunner, town: Town, key: Path, logged: Logged
) -> None:
    opened = cli.invoke(app, [
        "oversight", "open-entry", f"{logged.status_change}-{logged.order}", "--key", str(key),
        "--auditor", "auditor-1", "--people", logged.bob,
    ])  # fmt: skip
    assert opened.exit_code == 0, opened.output
    assert "no escrow of the people given opens it" in opened.output  # alice's status change
    assert f"person {logged.bob}" in opened.output and logged.alice not in opened.output
    assert town.services.access.of_person(logged.alice) == []
    assert len(town.services.access.of_person(logged.bob)) == 1


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("wrong", "oversight.key_wrong"),
        ("malformed", "oversight.key_malformed"),
        ("missing", "oversight.key_malformed"),
        ("unknown index", "log.not_found"),
        ("not an index", "request.malformed"),
        ("not an auditor", "auth.forbidden"),
        ("wrong password", "auth.invalid_token"),
    ],
)
def test_refusals_write_nothing(
    cli: CliRunner, town: Town, key: Path, logged: Logged, tmp_path: Path, given: str, code: str
) -> None:
    other = tmp_path / "other.x25519"
    other.write_bytes(
        X25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    )
    malformed = tmp_path / "malformed.key"
    malformed.write_text("not a key\n")
    index, key_file, auditor = str(logged.order), str(key), "auditor-1"
    if given == "wrong":
        key_file = str(other)
    elif given == "malformed":
        key_file = str(malformed)
    elif given == "missing":
        key_file = str(tmp_path / "absent.key")
    elif given == "unknown index":
        index = "100000"
    elif given == "not an index":
        index = "7-x"
    elif given == "not an auditor":
        auditor = "zz-off-1"
    password = "a guess" if given == "wrong password" else AUDITOR_PASSWORD
    before = counts(town.services.db)
    refused = cli.invoke(
        app,
        ["oversight", "open-entry", index, "--key", key_file, "--auditor", auditor],
        env={PASSWORD_VARIABLE: password},
    )
    assert refused.exit_code == 2 and code in refused.output, refused.output
    assert "entry " not in refused.output.split(code)[0]  # nothing opened was printed
    if given == "wrong password":  # counted against the badge, as the sign-in route counts it
        before["sign_in_failures"] += 1
    assert counts(town.services.db) == before


def test_a_pem_key_opens_as_the_raw_one_does(
    cli: CliRunner, town: Town, key: Path, logged: Logged, tmp_path: Path
) -> None:
    pem = tmp_path / "oversight.pem"
    raw = X25519PrivateKey.from_private_bytes(key.read_bytes())
    pem.write_bytes(raw.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    opened = cli.invoke(app, [
        "oversight", "open-entry", str(logged.status_change), "--key", str(pem),
        "--auditor", "auditor-1",
    ])  # fmt: skip
    assert opened.exit_code == 0 and f"person {logged.alice}" in opened.output, opened.output


def test_a_wrong_key_is_refused_after_a_few_escrows_not_a_citys(
    cli: CliRunner, town: Town, tmp_path: Path
) -> None:
    town.register_staff()
    people = [town.person(f"p{n}") for n in range(10)]
    at = town.clock.now() - timedelta(hours=1)
    town.submit("lab-1", [
        town.record("test_result", person, at, method="pcr", result="positive") for person in people
    ])  # fmt: skip
    other = tmp_path / "other.x25519"
    other.write_bytes(
        X25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    )
    refused = cli.invoke(app, [
        "oversight", "open-entry", str(last(town, "status_change")), "--key", str(other),
        "--auditor", "auditor-1",
    ])  # fmt: skip
    assert refused.exit_code == 2 and "oversight.key_wrong" in refused.output
    assert "none of the 8 escrows tried" in refused.output


def test_a_designation_end_and_a_request_refusal_open_to_their_staff(
    cli: CliRunner, town: Town, key: Path
) -> None:
    """Both kinds came from branches beside `entry_tags`: oversight could not say which official
    ended a designation, or which supervisor refused a request."""
    town.register_staff()
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(5), id="d-open")
    town.services.designations.end(
        ZZ_OFFICIAL, "d-open", reason="no_longer_needed", ends_at=None, now=now
    )
    ended = last(town, "designation_end")
    request_id, _ = bulk(town)
    town.services.order_refusals.refuse(
        SUPERVISOR_2, request_id, reason="not_proportionate", now=town.clock.now()
    )
    refused = last(town, "order_refusal")
    opened = cli.invoke(app, [
        "oversight", "open-entry", str(ended), str(refused), "--key", str(key),
        "--auditor", "auditor-1",
    ])  # fmt: skip
    assert opened.exit_code == 0, opened.output
    blocks = {
        int(block.split(":")[0]): block for block in opened.output.split("entry ")[1:] if block
    }
    assert "staff zz-off-1" in blocks[ended]
    assert "staff zz-sup-2" in blocks[refused]
