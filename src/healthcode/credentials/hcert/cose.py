"""COSE_Sign1 stage (RFC 8152): parse the tagged or legacy untagged message and check ES256/PS256."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pycose.keys.cosekey import CoseKey
from pycose.messages.sign1message import Sign1Message

from .errors import CoseError, SignatureError

COSE_SIGN1_TAG = 18
CWT_TAG = 61
HEADER_ALG = 1
HEADER_KID = 4
ALG_ES256 = -7
ALG_PS256 = -37
SUPPORTED_ALGS = {ALG_ES256: "ES256", ALG_PS256: "PS256"}

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class CoseSign1:
    """A structurally valid COSE_Sign1 message whose signature is not yet checked."""

    protected_bytes: bytes
    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes
    alg: int
    kid: bytes | None
    tags: tuple[int, ...]  # the CBOR tags found around the array, outermost first

    def pycose_message(self) -> Sign1Message:
        """A pycose view that signs over the exact protected bytes received."""
        # Only alg is handed to pycose: it rejects a header present in both buckets, and
        # HCERT legitimately repeats kid; alg goes unprotected only when it was sent so.
        unprotected = {} if HEADER_ALG in self.protected else {HEADER_ALG: self.alg}
        return Sign1Message.from_cose_obj(
            [self.protected_bytes, unprotected, self.payload, self.signature],
            allow_unknown_attributes=True,
        )


def _unwrap_tags(obj: Any) -> tuple[Any, tuple[int, ...]]:
    # Accepted: 18([...]), 61(18([...])) as RFC 8392 suggests, and the legacy untagged [...].
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag == CWT_TAG and isinstance(obj.value, cbor2.CBORTag):
            inner = obj.value
            if inner.tag == COSE_SIGN1_TAG:
                return inner.value, (CWT_TAG, COSE_SIGN1_TAG)
        elif obj.tag == COSE_SIGN1_TAG:
            return obj.value, (COSE_SIGN1_TAG,)
        raise CoseError(
            f"CBOR tag {obj.tag} around the COSE message is not accepted",
            f"COSE 消息外层的 CBOR 标签 {obj.tag} 不受支持",
        )
    return obj, ()


def _header_map(raw: Any, where_en: str, where_zh: str) -> dict[Any, Any]:
    if not isinstance(raw, dict):
        raise CoseError(f"{where_en} header is not a map", f"{where_zh}头部不是映射")
    return raw


def parse_cose(data: bytes) -> CoseSign1:
    """Parse COSE_Sign1 bytes, accepting the CWT-tagged, tagged and untagged forms."""
    try:
        obj = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several exception types on bad input
        raise CoseError("COSE message is not valid CBOR", "COSE 消息不是有效的 CBOR") from exc
    array, tags = _unwrap_tags(obj)
    if not isinstance(array, list) or len(array) != 4:
        raise CoseError(
            "COSE_Sign1 must be an array of four elements", "COSE_Sign1 必须是四个元素的数组"
        )
    protected_bytes, unprotected, payload, signature = array
    if not isinstance(protected_bytes, bytes):
        raise CoseError("protected header is not a byte string", "受保护头部不是字节串")
    if not isinstance(payload, bytes):
        raise CoseError("payload is missing or detached", "有效载荷缺失或为分离形式")
    if not isinstance(signature, bytes):
        raise CoseError("signature is not a byte string", "签名不是字节串")
    if protected_bytes:
        try:
            protected_raw = cbor2.loads(protected_bytes)
        except Exception as exc:
            raise CoseError(
                "protected header is not valid CBOR", "受保护头部不是有效的 CBOR"
            ) from exc
    else:
        protected_raw = {}
    protected = _header_map(protected_raw, "protected", "受保护")
    unprotected = _header_map(unprotected, "unprotected", "未受保护")
    message = CoseSign1(
        protected_bytes=protected_bytes,
        protected=protected,
        unprotected=unprotected,
        payload=payload,
        signature=signature,
        alg=_algorithm(protected, unprotected),
        kid=_kid(protected, unprotected),
        tags=tags,
    )
    try:
        message.pycose_message()
    except Exception as exc:  # pycose rejects header values it cannot interpret
        raise CoseError("COSE headers are malformed", "COSE 头部格式错误") from exc
    return message


def _algorithm(protected: dict[Any, Any], unprotected: dict[Any, Any]) -> int:
    # RFC 8152 wants alg protected; the test data also carries it unprotected, so accept
    # either, but never two disagreeing values.
    p_alg, u_alg = protected.get(HEADER_ALG), unprotected.get(HEADER_ALG)
    if p_alg is not None and u_alg is not None and p_alg != u_alg:
        raise CoseError("conflicting alg headers", "alg 头部取值相互矛盾")
    alg = p_alg if p_alg is not None else u_alg
    if type(alg) is not int or alg not in SUPPORTED_ALGS:
        raise CoseError(
            f"unsupported signature algorithm {alg!r} (need ES256 or PS256)",
            f"不支持的签名算法 {alg!r}（仅支持 ES256 或 PS256）",
        )
    return alg


def _kid(protected: dict[Any, Any], unprotected: dict[Any, Any]) -> bytes | None:
    # HCERT allows kid in either bucket; the protected one wins because it is signed.
    kid = protected.get(HEADER_KID)
    if kid is None:
        kid = unprotected.get(HEADER_KID)
    if kid is None:
        return None
    if not isinstance(kid, bytes):
        raise CoseError("kid header is not a byte string", "kid 头部不是字节串")
    return kid


def _cose_key(public_key: PublicKey, alg: int) -> CoseKey:
    if alg == ALG_ES256:
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1
        ):
            raise SignatureError("ES256 needs a P-256 signer key", "ES256 需要 P-256 签名者密钥")
    elif not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureError("PS256 needs an RSA signer key", "PS256 需要 RSA 签名者密钥")
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return CoseKey.from_pem_public_key(pem.decode("ascii"))


def signature_valid(message: CoseSign1, public_key: PublicKey) -> bool:
    """Whether the signature verifies with the key; raises SignatureError on a key/alg mismatch."""
    key = _cose_key(public_key, message.alg)
    sign1 = message.pycose_message()
    sign1.key = key
    try:
        return bool(sign1.verify_signature())
    except Exception:  # a malformed signature (wrong length, bad encoding) is just invalid
        return False
