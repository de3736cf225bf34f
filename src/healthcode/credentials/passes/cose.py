"""COSE_Sign1 (RFC 9052 §4.2) with EdDSA/Ed25519 (RFC 9053 §2.2, alg -8), one shape only.

Issued messages are `18([protected, {}, payload, signature])` where `protected` is the
deterministic CBOR of `{1: -8, 4: kid}`: alg and kid are both signed, the unprotected
bucket is empty. pycose computes the signature over the Sig_structure when issuing; we hand
it our own deterministic protected bytes (`phdr_encoded`), because pycose encodes header
maps in insertion order. Ed25519 signatures are deterministic (RFC 8032), so the same
claims, key and kid always give the same bytes.

Verifying builds the Sig_structure (RFC 9052 §4.4) itself — four CBOR items around the
received bytes, `["Signature1", protected, h'', payload]` — and checks the Ed25519
signature with `cryptography` directly: going through pycose's message and key objects
cost more than the signature check itself, and a venue verifies passes at a queue's pace.
A test keeps `sig_structure` byte-identical to pycose's.

Parsing accepts exactly that shape and nothing else (tagged, alg -8, kid protected,
empty unprotected map, 64-byte signature, deterministic CBOR at every level).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

from .cborscan import Defer, byte_string, dumps, loads_bounded
from .errors import CborError, CoseError
from .limits import DEFAULT_LIMITS, Limits

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_KID = 4
ALG_EDDSA = -8
SIGNATURE_BYTES = 64
_SIGN1_TAGS = frozenset({COSE_SIGN1_TAG})


@dataclass(frozen=True)
class CoseSign1:
    """A COSE_Sign1 message of the accepted shape; the signature is not yet checked."""

    protected_bytes: bytes
    kid: bytes
    payload: bytes
    signature: bytes

    def signature_valid(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature verifies with `public_key` over the received bytes."""
        try:
            public_key.verify(self.signature, sig_structure(self.protected_bytes, self.payload))
        except InvalidSignature:
            return False
        return True


def _bstr_head(length: int) -> bytes:
    """The shortest CBOR head of a byte string of `length` bytes (major type 2)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x1_0000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


# array(4), text(10) "Signature1"; then the protected bytes, external_aad h'', the payload.
_SIG_STRUCTURE_START = b"\x84\x6aSignature1"


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4), with empty external_aad."""
    return b"".join(
        (
            _SIG_STRUCTURE_START,
            _bstr_head(len(protected_bytes)),
            protected_bytes,
            b"\x40",
            _bstr_head(len(payload)),
            payload,
        )
    )


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32-byte encoding of an Ed25519 public key (RFC 8032 §5.1.5)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _okp_private(signing_key: Ed25519PrivateKey) -> OKPKey:
    d = signing_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return OKPKey(crv=Ed25519, x=raw_public_key(signing_key.public_key()), d=d)


def sign(payload: bytes, signing_key: Ed25519PrivateKey, kid: bytes) -> bytes:
    """The deterministic COSE_Sign1 bytes over `payload` with `kid` in the protected header."""
    protected = dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid})
    message = Sign1Message(phdr_encoded=protected, payload=payload)
    message.key = _okp_private(signing_key)
    signature = message.compute_signature()
    return dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def _cose_error(en: str, zh: str) -> CoseError:
    return CoseError(f"COSE_Sign1: {en}", f"COSE_Sign1：{zh}")


# The fixed bytes of the accepted shape: tag 18, array(4) ... ; protected {1: -8, 4: kid}.
_OUTER_START = b"\xd2\x84"
_EMPTY_MAP = 0xA0
_SIGNATURE_HEAD = b"\x58\x40"
_PROTECTED_START = b"\xa2\x01\x27\x04"


def _exact(data: bytes, limits: Limits) -> CoseSign1 | None:
    """The message when `data` is byte for byte the one accepted shape, else None.

    That shape is 6 items (tag, array, 4 elements) 3 levels deep, its protected header 5
    items 2 deep, all deterministic; with limits that small or smaller, the full path decides.
    """
    if limits.max_cbor_depth < 3 or limits.max_cbor_items < 6:
        return None
    try:
        if data[:2] != _OUTER_START:
            return None
        protected, pos = byte_string(data, 2)
        if data[pos] != _EMPTY_MAP:
            return None
        payload, pos = byte_string(data, pos + 1)
        if data[pos : pos + 2] != _SIGNATURE_HEAD or len(data) != pos + 2 + SIGNATURE_BYTES:
            return None
        if protected[:4] != _PROTECTED_START:
            return None
        kid, end = byte_string(protected, 4)
    except (Defer, IndexError):
        return None
    if end != len(protected) or not 1 <= len(kid) <= limits.max_key_id_bytes:
        return None
    return CoseSign1(protected, kid, payload, data[pos + 2 :])


def parse(data: bytes, limits: Limits = DEFAULT_LIMITS) -> CoseSign1:
    """Parse the one accepted COSE_Sign1 shape from bounded, deterministic CBOR.

    A message exactly of that shape is read directly (`_exact`); anything else goes through
    the bounded generic decoder, which refuses it with the specific error.
    """
    exact = _exact(data, limits)
    if exact is not None:
        return exact
    outer: Any = loads_bounded(data, limits, _SIGN1_TAGS)
    if not isinstance(outer, cbor2.CBORTag) or outer.tag != COSE_SIGN1_TAG:
        raise _cose_error("not tagged 18 (COSE_Sign1)", "缺少标签 18（COSE_Sign1）")
    array = outer.value
    if not isinstance(array, list) or len(array) != 4:
        raise _cose_error("not an array of four elements", "不是四个元素的数组")
    protected_bytes, unprotected, payload, signature = array
    if not isinstance(protected_bytes, bytes):
        raise _cose_error("protected header is not a byte string", "受保护头部不是字节串")
    if unprotected != {}:
        raise _cose_error("unprotected header must be empty", "未受保护头部必须为空")
    if not isinstance(payload, bytes):
        raise _cose_error("payload is not a byte string", "有效载荷不是字节串")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise _cose_error("signature is not 64 bytes", "签名不是 64 字节")
    try:
        protected: Any = loads_bounded(protected_bytes, limits)
    except CborError as exc:
        raise _cose_error(
            "protected header is not deterministic CBOR", "受保护头部不是确定性 CBOR"
        ) from exc
    if (
        not isinstance(protected, dict)
        or {type(k) for k in protected} != {int}
        or set(protected) != {HEADER_ALG, HEADER_KID}
    ):
        raise _cose_error(
            "protected header must hold exactly alg and kid", "受保护头部必须且只能包含 alg 与 kid"
        )
    if protected[HEADER_ALG] != ALG_EDDSA:
        raise _cose_error("algorithm is not EdDSA (-8)", "签名算法不是 EdDSA（-8）")
    kid = protected[HEADER_KID]
    if not isinstance(kid, bytes) or not 1 <= len(kid) <= limits.max_key_id_bytes:
        raise _cose_error(
            f"kid is not 1..{limits.max_key_id_bytes} bytes",
            f"kid 不是 1..{limits.max_key_id_bytes} 字节",
        )
    return CoseSign1(protected_bytes, kid, payload, signature)
