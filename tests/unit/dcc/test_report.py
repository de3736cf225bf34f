"""The step-by-step report the CLI prints, and the typed result, on real EU test cases."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any

from healthcode.credentials import hcert
from healthcode.credentials.hcert import StageStatus
from healthcode.services.dcc_conformance import parse_clock

from .conftest import DCC_DATA


def _case(name: str) -> dict[str, Any]:
    path = DCC_DATA / name
    assert path.is_file(), f"EU DCC test case missing: {path}"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _trust(case: dict[str, Any]) -> hcert.DccTrustList:
    der = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
    return hcert.DccTrustList.from_certificates([der])


def test_report_on_valid_case_passes_every_stage(schema_loader: hcert.SchemaLoader) -> None:
    case = _case("CH/2DCode/raw/1.json")  # RSA-PSS signer, schema 1.3.0 vaccination
    clock = parse_clock(case["TESTCTX"]["VALIDATIONCLOCK"])

    report = hcert.verify_report(case["PREFIX"], _trust(case), clock, schema_loader)

    assert [stage.name for stage in report] == list(hcert.STAGES)
    assert all(stage.status is StageStatus.PASSED for stage in report), report
    details = {stage.name: stage.detail for stage in report}
    assert "PS256" in details["cose"] and "24bc6b7b7bd2c328" in details["cose"]
    assert details["schema"] == "schema 1.3.0 valid, vaccination certificate"
    assert details["cwt"].startswith("iss CH, issued 2021-08-18")


def test_verify_gives_typed_certificate(schema_loader: hcert.SchemaLoader) -> None:
    case = _case("CH/2DCode/raw/1.json")
    clock = parse_clock(case["TESTCTX"]["VALIDATIONCLOCK"])
    expected = case["JSON"]

    cert = hcert.verify(case["PREFIX"], _trust(case), clock, schema_loader)

    assert cert.kind is hcert.CertificateKind.VACCINATION
    assert cert.name.family == expected["nam"]["fn"]
    assert cert.name.family_standardised == expected["nam"]["fnt"]
    assert cert.name.given_standardised == expected["nam"]["gnt"]
    assert cert.date_of_birth == expected["dob"]
    entry = expected["v"][0]
    assert isinstance(cert.details, hcert.VaccinationDetails)
    assert (cert.details.dose_number, cert.details.total_doses) == (entry["dn"], entry["sd"])
    assert cert.details.date == date.fromisoformat(entry["dt"])
    assert cert.certificate_id == entry["ci"]
    assert cert.issuer_country == "CH" and cert.kid.hex() == "24bc6b7b7bd2c328"
    assert cert.issued_at <= clock <= cert.expires_at
    assert cert.payload["ver"] == "1.3.0"


def test_verify_test_certificate_fields(schema_loader: hcert.SchemaLoader) -> None:
    case = _case("DE/2DCode/raw/2.json")  # EC P-256 signer, a test certificate
    clock = parse_clock(case["TESTCTX"]["VALIDATIONCLOCK"])

    cert = hcert.verify(case["PREFIX"], _trust(case), clock, schema_loader)

    entry = case["JSON"]["t"][0]
    assert cert.kind is hcert.CertificateKind.TEST
    assert isinstance(cert.details, hcert.TestDetails)
    assert (cert.details.result, cert.details.test_type) == (entry["tr"], entry["tt"])
    assert cert.details.sample_time.tzinfo is not None


def test_report_after_expiry_fails_only_expiry(schema_loader: hcert.SchemaLoader) -> None:
    case = _case("CH/2DCode/raw/1.json")
    cert = hcert.verify(
        case["PREFIX"], _trust(case), parse_clock(case["TESTCTX"]["VALIDATIONCLOCK"]), schema_loader
    )

    report = hcert.verify_report(
        case["PREFIX"], _trust(case), cert.expires_at + timedelta(seconds=1), schema_loader
    )

    failed = [(stage.name, stage.code) for stage in report if not stage.ok]
    assert failed == [("expiry", "dcc.expired")]


def test_report_without_trusted_signer_still_reads_payload(
    schema_loader: hcert.SchemaLoader,
) -> None:
    case = _case("CH/2DCode/raw/1.json")
    clock = parse_clock(case["TESTCTX"]["VALIDATIONCLOCK"])

    report = {
        s.name: s
        for s in hcert.verify_report(case["PREFIX"], hcert.DccTrustList(), clock, schema_loader)
    }

    assert report["signature"].code == "dcc.unknown_signer"
    assert report["signer_validity"].status is StageStatus.SKIPPED
    assert report["key_usage"].status is StageStatus.SKIPPED
    assert report["schema"].ok and report["expiry"].ok


def test_report_on_text_without_prefix(schema_loader: hcert.SchemaLoader) -> None:
    case = _case("common/2DCode/raw/H2.json")  # HC2: is a future, unsupported context
    clock = parse_clock(case["TESTCTX"]["VALIDATIONCLOCK"])

    report = hcert.verify_report(case["PREFIX"], hcert.DccTrustList(), clock, schema_loader)

    assert report[0].status is StageStatus.FAILED and report[0].code == "dcc.prefix"
    assert all(stage.status is StageStatus.SKIPPED for stage in report[1:])
