"""Stage-by-stage behaviour of the HCERT verifier on certificates signed by a test issuer."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from healthcode.credentials import hcert

from .conftest import DURING, EXPIRES, ISSUED, VACCINATION_PAYLOAD, Issuer

TEST_OID = "1.3.6.1.4.1.1847.2021.1.1"
VACC_OID_ALT = "1.3.6.1.4.1.0.1847.2021.1.2"
ICAO_DOCUMENT_SIGNER_OID = "2.23.136.1.1.14.2"


def _verify(issuer: Issuer, text: str, loader: hcert.SchemaLoader, at: datetime = DURING) -> Any:
    return hcert.verify(text, issuer.trust_list(), at, loader)


def _code(issuer: Issuer, text: str, loader: hcert.SchemaLoader, at: datetime = DURING) -> str:
    with pytest.raises(hcert.HcertError) as info:
        _verify(issuer, text, loader, at)
    return info.value.code


@pytest.mark.parametrize("use_rsa", [False, True], ids=["ES256", "PS256"])
def test_signed_certificate_verifies(use_rsa: bool, schema_loader: hcert.SchemaLoader) -> None:
    issuer = Issuer(rsa_key=use_rsa)
    cert = _verify(issuer, issuer.text(), schema_loader)
    assert cert.kind is hcert.CertificateKind.VACCINATION
    assert cert.name.given == "Zoë" and cert.kid == issuer.kid and cert.signer_country == "DE"
    assert (cert.issued_at, cert.expires_at) == (ISSUED, EXPIRES)


@pytest.mark.parametrize("tags", [(18,), (61, 18), ()], ids=["tagged", "cwt-tagged", "untagged"])
def test_accepted_cose_forms(
    issuer: Issuer, tags: tuple[int, ...], schema_loader: hcert.SchemaLoader
) -> None:
    assert _verify(issuer, issuer.text(issuer.cose(tags=tags)), schema_loader).kid == issuer.kid


@pytest.mark.parametrize("tags", [(61,), (98, 18), (17,)])
def test_other_tags_are_refused(
    issuer: Issuer, tags: tuple[int, ...], schema_loader: hcert.SchemaLoader
) -> None:
    assert _code(issuer, issuer.text(issuer.cose(tags=tags)), schema_loader) == "dcc.cose"


def test_kid_in_unprotected_header(issuer: Issuer, schema_loader: hcert.SchemaLoader) -> None:
    text = issuer.text(issuer.cose(kid_protected=False))
    assert _verify(issuer, text, schema_loader).kid == issuer.kid


def test_unknown_signer_and_bad_signature(
    issuer: Issuer, schema_loader: hcert.SchemaLoader
) -> None:
    other = Issuer()
    assert _code(other, issuer.text(), schema_loader) == "dcc.unknown_signer"
    message = cbor2.loads(issuer.cose())
    message.value[3] = bytes(64)
    forged = issuer.text(cbor2.dumps(message))
    assert _code(issuer, forged, schema_loader) == "dcc.signature"


@pytest.mark.parametrize(
    ("eku", "allowed"),
    [
        (None, True),  # no extension: all three kinds
        ([VACC_OID_ALT], True),  # the 1.3.6.1.4.1.0.1847 arc counts as well
        ([TEST_OID], False),
        ([ICAO_DOCUMENT_SIGNER_OID], False),  # RFC 5280: only the listed purposes
    ],
)
def test_extended_key_usage(
    eku: list[str] | None, allowed: bool, schema_loader: hcert.SchemaLoader
) -> None:
    issuer = Issuer(eku=eku)
    if allowed:
        assert _verify(issuer, issuer.text(), schema_loader)
    else:
        assert _code(issuer, issuer.text(), schema_loader) == "dcc.key_usage"


def test_validity_window(issuer: Issuer, schema_loader: hcert.SchemaLoader) -> None:
    text = issuer.text()
    assert _verify(issuer, text, schema_loader, ISSUED) and _verify(
        issuer, text, schema_loader, EXPIRES
    )
    assert _code(issuer, text, schema_loader, EXPIRES + timedelta(seconds=1)) == "dcc.expired"
    assert _code(issuer, text, schema_loader, ISSUED - timedelta(seconds=1)) == "dcc.not_yet_valid"
    with pytest.raises(ValueError, match="timezone"):
        hcert.verify(text, issuer.trust_list(), datetime(2021, 7, 1), schema_loader)


def test_cwt_outside_signer_validity(issuer: Issuer, schema_loader: hcert.SchemaLoader) -> None:
    late = int((EXPIRES + timedelta(days=90)).timestamp())
    text = issuer.text(issuer.cose(issuer.claims({4: late})))
    assert _code(issuer, text, schema_loader) == "dcc.signer_validity"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("HC2:6BFOXN", "dcc.prefix"),
        ("6BFOXN*TS0BI$ZD", "dcc.prefix"),
        ("HC1:" + "A" * 20_000, "dcc.too_large"),
        ("HC1:a", "dcc.base45"),
        ("HC1:GGW", "dcc.base45"),  # a triplet above 0xFFFF
    ],
)
def test_transport_errors(
    issuer: Issuer, text: str, code: str, schema_loader: hcert.SchemaLoader
) -> None:
    assert _code(issuer, text, schema_loader) == code


def test_zlib_limits(issuer: Issuer, schema_loader: hcert.SchemaLoader) -> None:
    def text_of(compressed: bytes) -> str:
        return "HC1:" + hcert.encode_base45(compressed)

    bomb = zlib.compress(bytes(10_000_000), 9)  # 10 MB of zeros in ~10 KB
    assert len(text_of(bomb)) < hcert.DEFAULT_LIMITS.max_text_chars
    assert _code(issuer, text_of(bomb), schema_loader) == "dcc.too_large"
    good = zlib.compress(issuer.cose())
    assert _code(issuer, text_of(good[:-4]), schema_loader) == "dcc.zlib"
    assert _code(issuer, text_of(good + b"\x00"), schema_loader) == "dcc.zlib"
    assert _code(issuer, text_of(issuer.cose()), schema_loader) == "dcc.zlib"  # not compressed
    # Scanners append line breaks; they are not part of the Base45 text.
    assert _verify(issuer, issuer.text() + "\r\n", schema_loader)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({-260: None}, "dcc.cbor"),
        ({-260: {2: {}}}, "dcc.cbor"),
        ({4: "tomorrow"}, "dcc.cbor"),
        ({6: True}, "dcc.cbor"),
        ({4: 10**30}, "dcc.cbor"),
        ({1: 49}, "dcc.cbor"),
        ({-260: {1: {**VACCINATION_PAYLOAD, "ver": "9.9.9"}}}, "dcc.schema"),
        ({-260: {1: {**VACCINATION_PAYLOAD, "ver": 1}}}, "dcc.schema"),
        ({-260: {1: {**VACCINATION_PAYLOAD, "dob": "14.04.1980"}}}, "dcc.schema"),
        ({-260: {1: {**VACCINATION_PAYLOAD, "t": []}}}, "dcc.schema"),
        ({-260: {1: {**VACCINATION_PAYLOAD, "nam": {1: "x"}}}}, "dcc.cbor"),
        ({-260: {1: {**VACCINATION_PAYLOAD, "x": b"bytes"}}}, "dcc.cbor"),
    ],
)
def test_claims_and_payload_errors(
    issuer: Issuer, overrides: dict[Any, Any], code: str, schema_loader: hcert.SchemaLoader
) -> None:
    text = issuer.text(issuer.cose(issuer.claims(overrides)))
    assert _code(issuer, text, schema_loader) == code


def test_non_payload_cose_is_refused(issuer: Issuer, schema_loader: hcert.SchemaLoader) -> None:
    assert (
        _code(issuer, issuer.text(cbor2.dumps([b"", {}, None, b""])), schema_loader) == "dcc.cose"
    )
    assert _code(issuer, issuer.text(b"\xff\xff"), schema_loader) == "dcc.cose"


def test_schema_patch_version_falls_back(schema_loader: hcert.SchemaLoader) -> None:
    assert schema_loader("1.3.1") is schema_loader("1.3.3")
    assert schema_loader("1.2.0") is schema_loader("1.2.1")
    with pytest.raises(KeyError):
        schema_loader("2.0.0")


def test_trust_list_reads_pem_and_der(issuer: Issuer) -> None:
    pem = x509.load_der_x509_certificate(issuer.der).public_bytes(serialization.Encoding.PEM)
    from_pem = hcert.DocumentSigner.from_certificate(pem, country="AT")
    assert from_pem.kid == issuer.kid and from_pem.country == "AT"
    assert hcert.DccTrustList.from_certificates([issuer.der]).by_kid(issuer.kid)
    with pytest.raises(hcert.TrustListError):
        hcert.DccTrustList.from_certificates([b"not a certificate"])


def test_error_tree_codes() -> None:
    expected = {
        hcert.PrefixError: "dcc.prefix",
        hcert.Base45Error: "dcc.base45",
        hcert.ZlibError: "dcc.zlib",
        hcert.TooLargeError: "dcc.too_large",
        hcert.CoseError: "dcc.cose",
        hcert.CborError: "dcc.cbor",
        hcert.SchemaError: "dcc.schema",
        hcert.SignatureError: "dcc.signature",
        hcert.UnknownSignerError: "dcc.unknown_signer",
        hcert.KeyUsageError: "dcc.key_usage",
        hcert.ExpiredError: "dcc.expired",
        hcert.NotYetValidError: "dcc.not_yet_valid",
        hcert.SignerValidityError: "dcc.signer_validity",
        hcert.TrustListError: "dcc.trust_list",
    }
    for cls, code in expected.items():
        error = cls("english", "中文")
        assert isinstance(error, hcert.HcertError)
        assert (error.code, error.message_en, error.message_zh) == (code, "english", "中文")
    assert hcert.HcertError("dcc.x", "en", "zh").code == "dcc.x"
