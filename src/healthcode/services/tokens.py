"""Signed bearer tokens: JWTs with EdDSA (Ed25519), checked against an injected instant.

Persons get them from the identity provider (``healthcode admin token`` for the demo) and the
page exchanges one at a login link for an HttpOnly session cookie; staff and venue devices use
the same format with their own audience. Only EdDSA is accepted, so ``alg: none`` and
HMAC-confusion tokens fail. Keys rotate: tokens signed by a retired key still verify until they
expire; a token can be revoked by its ``jti``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from healthcode.errors import Unauthorized

ISSUER = "healthcode"
PERSON_AUDIENCE = "healthcode:person"
STAFF_AUDIENCE = "healthcode:staff"
VENUE_AUDIENCE = "healthcode:venue"
STAFF_ROLES = frozenset({"official", "supervisor", "hotline", "auditor"})


def audience_for(role: str) -> str:
    if role == "person":
        return PERSON_AUDIENCE
    if role == "venue":
        return VENUE_AUDIENCE
    if role in STAFF_ROLES:
        return STAFF_AUDIENCE
    raise ValueError(f"no audience for role {role!r}")


def key_id_of(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


@dataclass(frozen=True)
class Claims:
    subject: str
    role: str
    audience: str
    issued_at: datetime
    expires_at: datetime
    token_id: str


class Tokens:
    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        retired_keys: Sequence[Ed25519PublicKey] = (),
        is_revoked: Callable[[str], bool] = lambda _jti: False,
    ) -> None:
        self._key = signing_key
        self.key_id = key_id_of(signing_key.public_key())
        self._verifiers = {key_id_of(k): k for k in (signing_key.public_key(), *retired_keys)}
        self._is_revoked = is_revoked

    def mint(
        self, subject: str, *, role: str, now: datetime, ttl: timedelta, audience: str | None = None
    ) -> str:
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "aud": audience or audience_for(role),
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self.key_id})

    def verify(self, token: str, *, audience: str | Sequence[str], now: datetime) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
            key = self._verifiers.get(str(header.get("kid")))
            if key is None:
                raise Unauthorized("auth.invalid_token", "unknown key id")
            # Expiry is checked below against the injected clock, not the machine's.
            payload = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=audience,
                issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise Unauthorized("auth.invalid_token", type(exc).__name__) from None
        expires_at = datetime.fromtimestamp(payload["exp"], now.tzinfo)
        if now >= expires_at:
            raise Unauthorized("auth.invalid_token", "expired")
        if self._is_revoked(str(payload["jti"])):
            raise Unauthorized("auth.invalid_token", "revoked")
        return Claims(
            subject=str(payload["sub"]),
            role=str(payload.get("role", "")),
            audience=str(payload["aud"]),
            issued_at=datetime.fromtimestamp(payload["iat"], now.tzinfo),
            expires_at=expires_at,
            token_id=str(payload["jti"]),
        )
