"""Runs the HCERT stages in order: verify() for a verdict, verify_report() for a step-by-step report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from .claims import CwtClaims, parse_claims
from .cose import SUPPORTED_ALGS, CoseSign1, parse_cose, signature_valid
from .errors import (
    Base45Error,
    CborError,
    CoseError,
    ExpiredError,
    HcertError,
    KeyUsageError,
    NotYetValidError,
    PrefixError,
    SchemaError,
    SignatureError,
    SignerValidityError,
    StageError,
    UnknownSignerError,
    ZlibError,
)
from .model import CertificateKind, StageResult, StageStatus, VerifiedCertificate
from .payload import event_details, event_entry, person_name
from .schema import SchemaLoader, validate_payload
from .transport import DEFAULT_LIMITS, Limits, decode_base45, decompress, strip_prefix
from .trust import DccTrustList, DocumentSigner

T = TypeVar("T")

# Stage names, in the order they run. The signature is checked before the payload is
# interpreted, as the HCERT spec's security considerations require.
STAGES = (
    "prefix",
    "base45",
    "zlib",
    "cose",
    "signature",
    "cwt",
    "schema",
    "signer_validity",
    "key_usage",
    "expiry",
)


def _guard(error_cls: type[StageError], step: Callable[[], T]) -> T:
    """Run a stage so that nothing but HcertError escapes, whatever the input."""
    try:
        return step()
    except HcertError:
        raise
    except Exception as exc:  # a defect no stage anticipated must still not crash callers
        raise error_cls(
            f"unanticipated {type(exc).__name__} while decoding",
            f"解码时出现意外的 {type(exc).__name__}",
        ) from exc


def find_signer(message: CoseSign1, trust_list: DccTrustList) -> DocumentSigner:
    """The trusted signer whose key verifies the message, tried by kid."""
    if message.kid is None:
        raise UnknownSignerError("message carries no kid", "消息中没有 kid")
    candidates = trust_list.by_kid(message.kid)
    if not candidates:
        raise UnknownSignerError(
            f"no trusted signer with kid {message.kid.hex()}",
            f"信任列表中没有 kid 为 {message.kid.hex()} 的签名者",
        )
    for signer in candidates:
        try:
            if signature_valid(message, signer.public_key):
                return signer
        except SignatureError:
            continue  # a colliding kid with another key type: try the next one
    raise SignatureError("signature does not verify", "签名验证失败")


def _require_aware(at: datetime) -> None:
    # A naive instant is a caller bug, not bad input: it gets ValueError, not HcertError.
    if at.tzinfo is None:
        raise ValueError("the validation instant must be timezone-aware")


def check_time(claims: CwtClaims, at: datetime) -> None:
    """Raise unless the validation instant lies within issued-at..expiry."""
    _require_aware(at)
    if at < claims.issued_at:
        raise NotYetValidError(
            "validation instant is before the issued-at time", "验证时间早于签发时间"
        )
    if at > claims.expires_at:
        raise ExpiredError("certificate has expired", "证书已过期")


@dataclass
class _Pipeline:
    """Intermediate values shared by verify() and verify_report()."""

    text: str
    trust_list: DccTrustList
    schema_loader: SchemaLoader
    limits: Limits

    def base45_text(self) -> str:
        return _guard(PrefixError, lambda: strip_prefix(self.text, self.limits))

    def compressed(self, base45_text: str) -> bytes:
        return _guard(Base45Error, lambda: decode_base45(base45_text))

    def cose_bytes(self, compressed: bytes) -> bytes:
        return _guard(ZlibError, lambda: decompress(compressed, self.limits))

    def message(self, cose_bytes: bytes) -> CoseSign1:
        return _guard(CoseError, lambda: parse_cose(cose_bytes))

    def signer(self, message: CoseSign1) -> DocumentSigner:
        return _guard(SignatureError, lambda: find_signer(message, self.trust_list))

    def claims(self, message: CoseSign1) -> CwtClaims:
        return _guard(CborError, lambda: parse_claims(message.payload))

    def kind(self, claims: CwtClaims) -> CertificateKind:
        def step() -> CertificateKind:
            kind = validate_payload(claims.payload, self.schema_loader)
            person_name(claims.payload)
            event_details(event_entry(claims.payload, kind), kind)
            return kind

        return _guard(SchemaError, step)


def verify(
    text: str,
    trust_list: DccTrustList,
    at: datetime,
    schema_loader: SchemaLoader,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedCertificate:
    """Decode and verify an `HC1:` text at the instant `at`; raises HcertError on any failure."""
    _require_aware(at)
    p = _Pipeline(text, trust_list, schema_loader, limits)
    message = p.message(p.cose_bytes(p.compressed(p.base45_text())))
    signer = p.signer(message)
    claims = p.claims(message)
    kind = p.kind(claims)
    _guard(SignerValidityError, lambda: signer.check_covers(claims.issued_at, claims.expires_at))
    _guard(KeyUsageError, lambda: signer.check_key_usage(kind))
    check_time(claims, at)
    entry = event_entry(claims.payload, kind)
    return VerifiedCertificate(
        kind=kind,
        schema_version=str(claims.payload["ver"]),
        name=person_name(claims.payload),
        date_of_birth=str(claims.payload.get("dob", "")),
        details=event_details(entry, kind),
        certificate_id=str(entry.get("ci", "")),
        event_country=str(entry.get("co", "")),
        certificate_issuer=str(entry.get("is", "")),
        issuer_country=claims.issuer,
        signer_country=signer.country,
        kid=signer.kid,
        issued_at=claims.issued_at,
        expires_at=claims.expires_at,
        payload=claims.payload,
    )


class _Report:
    """Collects stage results, skipping a stage whose inputs failed."""

    def __init__(self) -> None:
        self.results: list[StageResult] = []

    def run(
        self, name: str, needs: tuple[object, ...], step: Callable[[], tuple[T, str]]
    ) -> T | None:
        if any(value is None for value in needs):
            self.results.append(
                StageResult(
                    name,
                    StageStatus.SKIPPED,
                    "an earlier stage failed",
                    None,
                    "前序阶段失败，已跳过",
                )
            )
            return None
        try:
            value, detail = step()
        except HcertError as exc:
            self.results.append(
                StageResult(name, StageStatus.FAILED, exc.message_en, exc.code, exc.message_zh)
            )
            return None
        self.results.append(StageResult(name, StageStatus.PASSED, detail, None, "通过"))
        return value


def verify_report(
    text: str,
    trust_list: DccTrustList,
    at: datetime,
    schema_loader: SchemaLoader,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> list[StageResult]:
    """Every stage's result at the instant `at`; later stages still run where their inputs allow."""
    _require_aware(at)
    p = _Pipeline(text, trust_list, schema_loader, limits)
    r = _Report()
    b45 = r.run("prefix", (), lambda: (p.base45_text(), "HC1: prefix present"))
    comp = r.run("base45", (b45,), lambda: _sized(p.compressed(b45 or "")))
    cose_bytes = r.run("zlib", (comp,), lambda: _sized(p.cose_bytes(comp or b"")))
    msg = r.run("cose", (cose_bytes,), lambda: _described_message(p.message(cose_bytes or b"")))
    signer = r.run("signature", (msg,), lambda: _described_signer(p.signer(_req(msg))))
    claims = r.run("cwt", (msg,), lambda: _described_claims(p.claims(_req(msg))))
    kind = r.run("schema", (claims,), lambda: _described_kind(p.kind(_req(claims)), _req(claims)))

    def signer_validity() -> tuple[bool, str]:
        c, s = _req(claims), _req(signer)
        _guard(SignerValidityError, lambda: s.check_covers(c.issued_at, c.expires_at))
        return True, f"signer valid {s.not_before.isoformat()} .. {s.not_after.isoformat()}"

    def key_usage() -> tuple[bool, str]:
        _guard(KeyUsageError, lambda: _req(signer).check_key_usage(_req(kind)))
        return True, f"signer may sign {_req(kind).name.lower()} certificates"

    def expiry() -> tuple[bool, str]:
        _guard(ExpiredError, lambda: check_time(_req(claims), at))
        return True, f"valid at {at.isoformat()}"

    r.run("signer_validity", (claims, signer), signer_validity)
    r.run("key_usage", (signer, kind), key_usage)
    r.run("expiry", (claims,), expiry)
    return r.results


def _req(value: T | None) -> T:
    # _Report.run only calls a step once every value it needs is present.
    assert value is not None
    return value


def _sized(data: bytes) -> tuple[bytes, str]:
    return data, f"{len(data)} bytes"


def _described_message(message: CoseSign1) -> tuple[CoseSign1, str]:
    kid = message.kid.hex() if message.kid is not None else "none"
    tags = "+".join(str(tag) for tag in message.tags) or "untagged"
    return message, f"COSE_Sign1 ({tags}), {SUPPORTED_ALGS[message.alg]}, kid {kid}"


def _described_signer(signer: DocumentSigner) -> tuple[DocumentSigner, str]:
    return signer, f"verified with signer kid {signer.kid.hex()} ({signer.country or '?'})"


def _described_claims(claims: CwtClaims) -> tuple[CwtClaims, str]:
    return claims, (
        f"iss {claims.issuer or '?'}, issued {claims.issued_at.isoformat()}, "
        f"expires {claims.expires_at.isoformat()}"
    )


def _described_kind(kind: CertificateKind, claims: CwtClaims) -> tuple[CertificateKind, str]:
    return kind, f"schema {claims.payload['ver']} valid, {kind.name.lower()} certificate"
