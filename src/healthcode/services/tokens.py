"""Signed bearer tokens: JWTs with EdDSA (Ed25519), checked against an injected instant.

Persons get them from the identity provider (``healthcode admin token`` for the demo) and the
page exchanges one at a login link for an HttpOnly session cookie; staff use the same format.
Only EdDSA is accepted, so ``alg: none`` and HMAC-confusion tokens fail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from healthcode.errors import Unauthorized

ISSUER = "healthcode"
PERSON_AUDIENCE = "healthcode:person"


@dataclass(frozen=True)
class Claims:
    subject: str
    role: str
    audience: str
    issued_at: datetime
    expires_at: datetime


class Tokens:
    def __init__(self, signing_key: Ed25519PrivateKey) -> None:
        self._key = signing_key
        self._public = signing_key.public_key()
        raw = self._public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    def mint(self, subject: str, *, role: str, audience: str, now: datetime, ttl: timedelta) -> str:
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "aud": audience,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self.key_id})

    def verify(self, token: str, *, audience: str, now: datetime) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.key_id:
                raise Unauthorized("auth.invalid_token", "unknown key id")
            # Expiry is checked below against the injected clock, not the machine's.
            payload = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=audience,
                issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "require": ["exp", "iat", "sub", "aud", "iss"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise Unauthorized("auth.invalid_token", type(exc).__name__) from None
        expires_at = datetime.fromtimestamp(payload["exp"], now.tzinfo)
        if now >= expires_at:
            raise Unauthorized("auth.invalid_token", "expired")
        return Claims(
            subject=str(payload["sub"]),
            role=str(payload.get("role", "")),
            audience=audience,
            issued_at=datetime.fromtimestamp(payload["iat"], now.tzinfo),
            expires_at=expires_at,
        )
