"""Shared fixtures for the HCERT tests: the EU test data location, schemas, and a test issuer."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from healthcode.credentials import hcert
from healthcode.services.dcc_conformance import load_schemas

REPO_ROOT = Path(__file__).resolve().parents[3]
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
DCC_DATA = TESTDATA / "dcc"
SCHEMA_ROOT = TESTDATA / "dcc-schema"

ISSUED = datetime(2021, 6, 1, tzinfo=UTC)
EXPIRES = datetime(2021, 12, 1, tzinfo=UTC)
DURING = datetime(2021, 7, 1, tzinfo=UTC)

VACCINATION_PAYLOAD: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Müller", "fnt": "MUELLER", "gn": "Zoë", "gnt": "ZOE"},
    "dob": "1980-04-14",
    "v": [
        {
            "tg": "840539006",
            "vp": "1119349007",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2021-05-20",
            "co": "DE",
            "is": "Robert Koch-Institut",
            "ci": "URN:UVCI:01:DE:ABCDEFGH12345678#S",
        }
    ],
}


@pytest.fixture(scope="session")
def schema_loader() -> hcert.SchemaLoader:
    # A missing data set must fail the run, never skip it.
    assert SCHEMA_ROOT.is_dir(), f"DCC schemas missing at {SCHEMA_ROOT}"
    return load_schemas(SCHEMA_ROOT)


def _certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, oids: list[str] | None
) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(ISSUED - timedelta(days=30))
        .not_valid_after(EXPIRES + timedelta(days=30))
    )
    if oids is not None:
        eku = x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in oids])
        builder = builder.add_extension(eku, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@dataclass
class Issuer:
    """Signs HCERTs the way a member state would, with knobs to build odd variants."""

    rsa_key: bool = False
    eku: list[str] | None = None
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(init=False)
    der: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if self.rsa_key
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.der = _certificate(self.key, self.eku)

    @property
    def kid(self) -> bytes:
        return hcert.kid_for(self.der)

    def trust_list(self) -> hcert.DccTrustList:
        return hcert.DccTrustList.from_certificates([self.der])

    def claims(self, overrides: Mapping[Any, Any] | None = None) -> bytes:
        claims: dict[Any, Any] = {
            1: "DE",
            6: int(ISSUED.timestamp()),
            4: int(EXPIRES.timestamp()),
            -260: {1: dict(VACCINATION_PAYLOAD)},
        }
        claims.update(overrides or {})
        return cbor2.dumps(claims)

    def sign(self, to_be_signed: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            return self.key.sign(to_be_signed, pss, hashes.SHA256())
        r, s = decode_dss_signature(self.key.sign(to_be_signed, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def cose(
        self,
        claims: bytes | None = None,
        *,
        kid_protected: bool = True,
        tags: tuple[int, ...] = (18,),
    ) -> bytes:
        payload = self.claims() if claims is None else claims
        alg = -37 if self.rsa_key else -7
        protected_map: dict[int, Any] = {1: alg}
        unprotected: dict[int, Any] = {}
        (protected_map if kid_protected else unprotected)[4] = self.kid
        protected = cbor2.dumps(protected_map)
        signature = self.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
        message: Any = [protected, unprotected, payload, signature]
        for tag in reversed(tags):
            message = cbor2.CBORTag(tag, message)
        return cbor2.dumps(message)

    def text(self, cose: bytes | None = None) -> str:
        data = self.cose() if cose is None else cose
        return "HC1:" + hcert.encode_base45(zlib.compress(data, 9))


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return Issuer(eku=None)
