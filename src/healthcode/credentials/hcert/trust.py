"""Document signer certificates (DSCs): kid, validity period, key usage, and the trust list."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .errors import KeyUsageError, SignerValidityError, TrustListError
from .model import CertificateKind

# HCERT spec, "Key Usage Policy Identifiers": both OID arcs are in use by issuers.
KEY_USAGE_OIDS: dict[CertificateKind, frozenset[str]] = {
    CertificateKind.TEST: frozenset({"1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"}),
    CertificateKind.VACCINATION: frozenset(
        {"1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"}
    ),
    CertificateKind.RECOVERY: frozenset(
        {"1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"}
    ),
}
MAX_CERTIFICATE_BYTES = 16_384


def kid_for(der: bytes) -> bytes:
    """The HCERT key identifier: the first 8 bytes of SHA-256 over the DER certificate."""
    return hashlib.sha256(der).digest()[:8]


def _load(data: bytes) -> x509.Certificate:
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise TrustListError("certificate too large", "证书过大")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except Exception as exc:
        raise TrustListError(
            "not a DER or PEM X.509 certificate", "不是 DER 或 PEM 格式的 X.509 证书"
        ) from exc


def _allowed_kinds(cert: x509.Certificate) -> frozenset[CertificateKind]:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        # HCERT: a DSC without the key usage policy identifiers may sign all three kinds.
        return frozenset(CertificateKind)
    except Exception as exc:  # the strict DER parser refuses malformed extensions
        raise TrustListError(
            f"certificate extensions are malformed: {exc}", "证书扩展项格式错误"
        ) from exc
    oids = {oid.dotted_string for oid in eku}
    # RFC 5280 §4.2.1.12: when the extension is present the key may only serve the
    # purposes it lists, so an EKU without HCERT identifiers allows no DCC at all.
    return frozenset(kind for kind, allowed in KEY_USAGE_OIDS.items() if oids & allowed)


def _subject_country(cert: x509.Certificate) -> str | None:
    try:
        attrs = cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    except Exception:  # an unparsable subject simply has no usable country
        return None
    value = attrs[0].value if attrs else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class DocumentSigner:
    """One trusted DSC, with what the verifier needs from it."""

    kid: bytes
    country: str | None
    der: bytes
    not_before: datetime
    not_after: datetime
    allowed_kinds: frozenset[CertificateKind]
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey = field(compare=False, repr=False)

    @classmethod
    def from_certificate(cls, data: bytes, country: str | None = None) -> DocumentSigner:
        """Build from DER or PEM bytes; the country defaults to the subject's C attribute."""
        cert = _load(data)
        try:
            key = cert.public_key()
            not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        except Exception as exc:
            raise TrustListError(
                "certificate key or validity is malformed", "证书公钥或有效期格式错误"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise TrustListError(
                "signer key must be EC P-256 or RSA", "签名者密钥必须是 EC P-256 或 RSA"
            )
        # The kid hashes the DER exactly as issued; PEM input is re-encoded to DER first.
        is_der = not data.lstrip().startswith(b"-----BEGIN")
        der = data if is_der else cert.public_bytes(serialization.Encoding.DER)
        return cls(
            kid=kid_for(der),
            country=country if country is not None else _subject_country(cert),
            der=der,
            not_before=not_before,
            not_after=not_after,
            allowed_kinds=_allowed_kinds(cert),
            public_key=key,
        )

    def check_key_usage(self, kind: CertificateKind) -> None:
        """Raise unless this signer's extended key usage allows the kind."""
        if kind not in self.allowed_kinds:
            raise KeyUsageError(
                f"signer is not allowed to sign {kind.name.lower()} certificates",
                f"签名者无权签发{_KIND_ZH[kind]}证书",
            )

    def check_covers(self, issued_at: datetime, expires_at: datetime) -> None:
        """Raise unless the CWT's issued-at..expiry lies within this certificate's validity."""
        # HCERT: iat MUST NOT predate the DSC validity, and exp MUST NOT exceed it.
        if issued_at < self.not_before:
            raise SignerValidityError(
                "issued before the signer certificate became valid",
                "签发时间早于签名者证书生效时间",
            )
        if expires_at > self.not_after:
            raise SignerValidityError(
                "expires after the signer certificate", "过期时间晚于签名者证书的有效期"
            )


_KIND_ZH = {
    CertificateKind.TEST: "检测",
    CertificateKind.VACCINATION: "疫苗接种",
    CertificateKind.RECOVERY: "康复",
}


@dataclass(frozen=True)
class DccTrustList:
    """The document signers a verifier trusts, looked up by kid."""

    signers: tuple[DocumentSigner, ...] = ()

    @classmethod
    def from_certificates(
        cls, certificates: Iterable[bytes], country: str | None = None
    ) -> DccTrustList:
        """Build from DER/PEM certificate bytes; raises TrustListError on the first bad one."""
        return cls(tuple(DocumentSigner.from_certificate(c, country) for c in certificates))

    def merged(self, other: DccTrustList) -> DccTrustList:
        """A trust list holding the signers of both."""
        return DccTrustList((*self.signers, *other.signers))

    def by_kid(self, kid: bytes) -> tuple[DocumentSigner, ...]:
        """Every signer with the kid: 8-byte kids may collide, and HCERT says try them all."""
        return tuple(signer for signer in self.signers if signer.kid == kid)
