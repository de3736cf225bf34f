"""A person submits an EU Digital COVID Certificate; if it verifies and is theirs, it is evidence.

The HC1 text (or a QR image of it) is verified against the DCC trust list at the server's
clock, outside the write lock; then its holder is matched to the person (``domain/dcc.py``,
policy ``dcc`` in ``policy.yaml``), and it becomes one evidence record of the matching kind,
attributed to the issuing country's source and written exactly as intake writes a batch (one
batch per certificate: its Merkle root, its ``evidence_batch`` log entry and the status changes,
in one transaction). The record id comes from the certificate identifier, so submitting the
same certificate again changes nothing. Any refusal writes nothing.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from healthcode.credentials import hcert
from healthcode.credentials.hcert.model import (
    RecoveryDetails,
    TestDetails,
    VaccinationDetails,
    VerifiedCertificate,
)
from healthcode.domain import dcc
from healthcode.domain.canonical import canonical
from healthcode.domain.evidence import (
    Evidence,
    EvidenceFormatError,
    EvidenceKind,
    parse_evidence,
)
from healthcode.errors import CATALOGUE, InputRejected, Unauthorized
from healthcode.services import person_token_uses
from healthcode.services.dcc_conformance import load_schemas
from healthcode.services.dcc_trust import DccTrust
from healthcode.services.derivation import Derivation
from healthcode.services.intake import commit_records
from healthcode.services.qr import read_qr_texts
from healthcode.store import dcc as dcc_repo
from healthcode.store import evidence as evidence_repo
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database

# The member of a certificate's leaf beside the evidence record: who signed it, from where.
SIGNER_FIELD = "dcc"


@dataclass(frozen=True)
class DccReceipt:
    person_key: str
    source_id: str
    record_id: str
    kind: str
    country: str
    occurred_at: datetime
    details: dict[str, Any]
    already_present: bool
    merkle_root: str
    status_changes: int

    @property
    def ref(self) -> str:
        return f"{self.source_id}/{self.record_id}"


def refusal_for(error: hcert.HcertError) -> InputRejected:
    """The verifier's stage codes are healthcode codes of the same name (``dcc.*``)."""
    code = error.code if error.code in CATALOGUE else "dcc.malformed"
    return InputRejected(code, error.message_en[:200])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def evidence_fields(
    certificate: VerifiedCertificate,
) -> tuple[EvidenceKind, datetime, dict[str, Any]]:
    """The evidence kind, the time it speaks of, and its kind-specific fields."""
    details = certificate.details
    fields: dict[str, Any]
    if details.disease != dcc.COVID_19:
        raise InputRejected("dcc.unsupported", "the certificate is not about COVID-19")
    if isinstance(details, TestDetails):
        fields = {
            "method": str(dcc.method_for_test_type(details.test_type)),
            "result": str(dcc.outcome_for_test_result(details.result)),
        }
        return EvidenceKind.TEST_RESULT, details.sample_time, fields
    if isinstance(details, VaccinationDetails):
        fields = {"vaccine": details.product, "dose": details.dose_number}
        return EvidenceKind.VACCINATION, _midnight(details.date), fields
    assert isinstance(details, RecoveryDetails)
    # Recovered as of the day the certificate's validity begins (after the positive test).
    return EvidenceKind.RECOVERY, _midnight(details.valid_from), {}


class DccIntake:
    def __init__(
        self,
        db: Database,
        derivation: Derivation,
        trust: DccTrust,
        *,
        schemas: Path | None,
        policy: dcc.HolderPolicy,
        future_skew: timedelta,
    ) -> None:
        self._db = db
        self._derivation = derivation
        self._trust = trust
        self._schema_folder = schemas
        self._schemas: hcert.SchemaLoader | None = None
        self._lock = threading.Lock()
        self._policy = policy
        self._future_skew = future_skew

    def _schema_loader(self) -> hcert.SchemaLoader:
        with self._lock:
            if self._schemas is None:
                folder = self._schema_folder
                if folder is None or not any(folder.glob("*/*combined-schema.json")):
                    raise InputRejected("dcc.unavailable", "HEALTHCODE_DCC_SCHEMAS is not set up")
                self._schemas = load_schemas(folder)
            return self._schemas

    def submit_image(
        self, submitter: str, image: bytes, *, now: datetime, holder: str | None = None,
        operator_token: str | None = None,
    ) -> DccReceipt:  # fmt: skip
        """A photo or screenshot of the certificate's QR code (decoded with zxing-cpp)."""
        texts = [text for text in read_qr_texts(image) if text.startswith("HC1:")]
        if len(texts) != 1:
            raise InputRejected("dcc.no_code", f"{len(texts)} DCC codes found")
        return self.submit(
            submitter, texts[0], now=now, holder=holder, operator_token=operator_token
        )

    def submit(
        self, submitter: str, text: str, *, now: datetime, holder: str | None = None,
        operator_token: str | None = None,
    ) -> DccReceipt:  # fmt: skip
        """Submit the HC1 text for the submitter, or (``holder``) for one of their dependants;
        ``operator_token``: the submitter's token's id if the operator issued it, whose use
        is logged with the certificate's batch (services/person_token_uses.py)."""
        person = holder or submitter
        if person != submitter:
            with self._db.read() as conn:
                if not staff_repo.is_guardian(conn, submitter, person):
                    raise Unauthorized("auth.forbidden", "not your dependant")
        schemas = self._schema_loader()
        try:
            certificate = hcert.verify(text, self._trust.trust_list(), now, schemas)
        except hcert.HcertError as error:
            raise refusal_for(error) from None
        country = certificate.signer_country
        assert country is not None  # every trusted signer is stored with its country
        if not certificate.certificate_id.strip():
            raise InputRejected("dcc.schema", "the certificate has no identifier (ci)")
        kind, occurred_at, fields = evidence_fields(certificate)
        if occurred_at > now + self._future_skew:
            raise InputRejected("evidence.time_in_future", "the certificate's event lies ahead")
        source_id = dcc.source_id_for(country)
        record_id = dcc.record_id_for(certificate.certificate_id)
        record = {
            "record_id": record_id, "kind": str(kind), "person": person, "area": dcc.DCC_AREA,
            "occurred_at": occurred_at.isoformat(), **fields,
        }  # fmt: skip
        try:
            item = parse_evidence(record, source_id=source_id, received_at=now)
        except EvidenceFormatError as exc:
            raise InputRejected("dcc.unsupported", str(exc)) from None
        with self._db.write() as conn:
            dcc.check_holder(
                dcc_repo.identity(conn, person),
                family_name=certificate.name.family_standardised,
                given_name=certificate.name.given_standardised,
                date_of_birth=certificate.date_of_birth,
                policy=self._policy,
            )
            signer = self._trust.still_trusted(conn, certificate.kid, country)
            source = registry_repo.source(conn, source_id)
            if signer is None or source is None:
                raise InputRejected("dcc.unknown_signer", "the signer was removed meanwhile")
            if not source.active:
                raise InputRejected("source.inactive")
            # The leaf commits to the certificate's signer besides the evidence itself.
            leaf = canonical(
                {**record, SIGNER_FIELD: {"signer": signer.fingerprint, "country": country,
                                   "issued_at": certificate.issued_at.isoformat()}}
            )  # fmt: skip
            records: list[tuple[Evidence, bytes, dict[str, Any]]] = [(item, leaf, record)]
            try:
                receipt = commit_records(
                    conn, self._derivation, source_id=source_id, batch_id=record_id,
                    signed_digest=hashlib.sha256(leaf).digest(), records=records, now=now,
                )  # fmt: skip
            except InputRejected as error:
                if error.code == "batch.conflict":
                    raise InputRejected("dcc.conflict") from None
                raise
            if operator_token is not None:  # the batch's entry is the act, if it is a new one
                batch = (
                    evidence_repo.batch(conn, source_id, record_id) if receipt.accepted else None
                )
                person_token_uses.record_uses(
                    conn, operator_token, person_key=submitter, now=now, act="evidence_batch",
                    act_indices=[] if batch is None else [int(batch.log_index)],
                )  # fmt: skip
        return DccReceipt(
            person_key=person,
            source_id=source_id,
            record_id=record_id,
            kind=str(kind),
            country=country,
            occurred_at=occurred_at,
            details=fields,
            already_present=receipt.accepted == 0,
            merkle_root=receipt.merkle_root,
            status_changes=receipt.status_changes,
        )
