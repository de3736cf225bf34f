"""Typed values produced by the HCERT verifier: certificate kinds, stage results, verified DCCs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


class CertificateKind(enum.Enum):
    """The three DCC kinds; the value is the key of the group in the payload."""

    TEST = "t"
    VACCINATION = "v"
    RECOVERY = "r"


class StageStatus(enum.Enum):
    """Outcome of one stage in a step-by-step report."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StageResult:
    """One stage's outcome; `code` and `detail_zh` come from the HcertError when it failed."""

    name: str
    status: StageStatus
    detail: str
    code: str | None = None
    detail_zh: str = ""

    @property
    def ok(self) -> bool:
        return self.status is StageStatus.PASSED


@dataclass(frozen=True)
class PersonName:
    """Holder's name as printed (fn/gn) and ICAO 9303 standardised (fnt/gnt)."""

    family: str | None
    given: str | None
    family_standardised: str
    given_standardised: str | None


@dataclass(frozen=True)
class TestDetails:
    """The `t` entry: a test result."""

    __test__ = False  # not a pytest test class despite the name

    disease: str
    test_type: str
    sample_time: datetime
    result: str
    name: str | None
    manufacturer: str | None
    centre: str | None


@dataclass(frozen=True)
class VaccinationDetails:
    """The `v` entry: one vaccination event."""

    disease: str
    prophylaxis: str
    product: str
    manufacturer: str
    dose_number: int
    total_doses: int
    date: date


@dataclass(frozen=True)
class RecoveryDetails:
    """The `r` entry: a recovery statement."""

    disease: str
    first_positive: date
    valid_from: date
    valid_until: date


EventDetails = TestDetails | VaccinationDetails | RecoveryDetails


@dataclass(frozen=True)
class VerifiedCertificate:
    """A DCC whose signature, signer, schema and validity period all checked out."""

    kind: CertificateKind
    schema_version: str
    name: PersonName
    date_of_birth: str  # may be partial ("1950", "1950-04") or empty, as the schema allows
    details: EventDetails
    certificate_id: str
    event_country: str
    certificate_issuer: str
    issuer_country: str | None  # CWT `iss` claim
    signer_country: str | None
    kid: bytes
    issued_at: datetime
    expires_at: datetime
    payload: Mapping[str, Any]  # the schema-valid DCC payload, JSON-compatible
