"""EU DCC test data read in place (../shared/testdata/dcc), and a test-only DCC issuer.

The EU data holds no positive test; ``Issuer`` signs DCCs with a document signer made here
(EC P-256, self-signed) so a positive result can be shown to act through the rulebook.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from healthcode.credentials import hcert
from healthcode.services.dcc_conformance import parse_clock
from healthcode.services.dcc_trust import SignerCertificate
from tests.conftest import SHARED

DCC = SHARED / "testdata" / "dcc"
# Before every validation clock of the cases used: the town's rulebook is published then.
DATA_EPOCH = datetime(2021, 5, 1, tzinfo=UTC)


@cache
def case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DCC / name).read_text())
    return loaded


def text_of(name: str) -> str:
    return str(case(name)["PREFIX"])


def clock_of(name: str) -> datetime:
    # The server's clock is in UTC (log entries spell instants in UTC).
    return parse_clock(case(name)["TESTCTX"]["VALIDATIONCLOCK"]).astimezone(UTC)


def signer_of(name: str, country: str) -> SignerCertificate:
    return SignerCertificate(base64.b64decode(case(name)["TESTCTX"]["CERTIFICATE"]), country)


def payload_of(name: str) -> dict[str, Any]:
    """The DCC inside the case's signed COSE message (some cases carry no JSON)."""
    cose = bytes.fromhex(case(name)["COSE"])
    return hcert.parse_claims(hcert.parse_cose(cose).payload).payload


def holder_of(name: str) -> tuple[tuple[str, str | None], date]:
    """The printed Latin-script name (family, given) and date of birth of the case's holder."""
    dcc = payload_of(name)
    nam = dcc["nam"]
    return (nam.get("fn") or nam["fnt"], nam.get("gn") or nam.get("gnt")), date.fromisoformat(
        str(dcc["dob"])[:10]
    )


def _cose_parts(text: str) -> list[Any]:
    raw = zlib.decompress(hcert.decode_base45(hcert.strip_prefix(text)))
    decoded = cbor2.loads(raw)
    parts = decoded.value if isinstance(decoded, cbor2.CBORTag) else decoded
    return list(parts)


def _encode(parts: list[Any]) -> str:
    message = cbor2.dumps(cbor2.CBORTag(18, parts))
    return "HC1:" + hcert.encode_base45(zlib.compress(message, 9))


def with_payload_changed(text: str, change: Any) -> str:
    """The certificate with its signed payload altered and the signature kept (a forgery)."""
    parts = _cose_parts(text)
    claims = cbor2.loads(parts[2])
    change(claims[-260][1])
    parts[2] = cbor2.dumps(claims)
    return _encode(parts)


def with_signature_flipped(text: str) -> str:
    parts = _cose_parts(text)
    signature = bytearray(parts[3])
    signature[5] ^= 0x01
    parts[3] = bytes(signature)
    return _encode(parts)


@dataclass
class Issuer:
    """A test-only issuing country: its document signer and DCCs it signs."""

    country: str = "XA"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.derive_private_key(424242, ec.SECP256R1())
    )
    valid_from: datetime = datetime(2021, 1, 1, tzinfo=UTC)
    counter: int = 0

    @cached_property
    def certificate(self) -> bytes:
        """Made once: ECDSA signatures differ every time, and the kid hashes the DER."""
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, self.country),
                x509.NameAttribute(NameOID.COMMON_NAME, f"Test DSC {self.country}"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(1000 + ord(self.country[0]))
            .not_valid_before(self.valid_from)
            .not_valid_after(self.valid_from + timedelta(days=730))
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.DER)

    @property
    def signer(self) -> SignerCertificate:
        return SignerCertificate(self.certificate, self.country)

    def issue(self, dcc: dict[str, Any], *, issued: datetime, days: int = 30) -> str:
        kid = hashlib.sha256(self.certificate).digest()[:8]
        protected = cbor2.dumps({1: -7, 4: kid})
        claims = {1: self.country, 6: int(issued.timestamp()),
                  4: int((issued + timedelta(days=days)).timestamp()), -260: {1: dcc}}  # fmt: skip
        payload = cbor2.dumps(claims)
        to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
        r, s = decode_dss_signature(self.key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return _encode([protected, {}, payload, signature])

    def _holder(self, family: str, given: str, dob: str) -> dict[str, Any]:
        self.counter += 1
        return {"ver": "1.3.0", "dob": dob,
                "nam": {"fn": family, "fnt": family.upper(), "gn": given, "gnt": given.upper()}}  # fmt: skip

    def _ci(self) -> str:
        return f"URN:UVCI:01:{self.country}:TEST{self.counter:06d}#A"

    def test(
        self,
        family: str,
        given: str,
        dob: str,
        *,
        sampled: datetime,
        positive: bool,
        pcr: bool = True,
    ) -> dict[str, Any]:
        dcc = self._holder(family, given, dob)
        dcc["t"] = [{"tg": "840539006", "tt": "LP6464-4" if pcr else "LP217198-3",
                     "sc": sampled.isoformat().replace("+00:00", "Z"),
                     "tr": "260373001" if positive else "260415000", "tc": "Test centre",
                     "co": self.country, "is": "Test ministry", "ci": self._ci()}]  # fmt: skip
        return dcc

    def recovery(
        self, family: str, given: str, dob: str, *, first_positive: date
    ) -> dict[str, Any]:
        dcc = self._holder(family, given, dob)
        dcc["r"] = [{"tg": "840539006", "fr": first_positive.isoformat(),
                     "df": (first_positive + timedelta(days=11)).isoformat(),
                     "du": (first_positive + timedelta(days=180)).isoformat(),
                     "co": self.country, "is": "Test ministry", "ci": self._ci()}]  # fmt: skip
        return dcc
