"""Signed bearer tokens: JWTs with EdDSA (Ed25519), checked against an injected instant.

Persons get them from the identity provider (``healthcode admin token`` for the demo) and the
page exchanges one at a login link (audience ``SIGN_IN_AUDIENCE``, no bearer token) for an
HttpOnly session cookie, once (`redeem`); staff and venue devices use the same format with
their own audience. A staff token the operator mints rather than a sign-in (``healthcode admin
staff-token``, services/staff_tokens.py) carries ``issued_by: operator``, so whatever is done
with it can be told apart from the member's own acts; so does a person's the operator mints
(services/person_tokens.py), and a session opened with an operator's sign-in link carries the
link's id (``opened_with``), so the acts made in it are the link's too
(services/person_token_uses.py). Only EdDSA is accepted, so ``alg: none`` and
HMAC-confusion tokens fail. Keys rotate: tokens signed by a retired key still verify until they
expire; a token can be revoked by its ``jti``.

What does not depend on the instant or on the store (the signature by a known key, the
algorithm, issuer, audience and required claims) is a pure function of the token's bytes and
the audiences asked for, so its result is remembered for the tokens verified most recently (a
person's app sends the same token with every request). Expiry, against the injected clock,
and revocation, in the store, are checked on every call. A caller that must not block (the
server's event loop) checks the rest with `check` and asks `revoked_later`: the store is
looked up after the call, by one thread for every token asked about meanwhile, in one
statement (services/batching.py).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from healthcode.errors import Unauthorized
from healthcode.services.batching import BatchWorker

ISSUER = "healthcode"
PERSON_AUDIENCE = "healthcode:person"
# A person's sign-in link holds a token of this audience: only /login takes it, once, so a link
# intercepted before its person opens it is no bearer token for the API meanwhile.
SIGN_IN_AUDIENCE = "healthcode:person-sign-in"
STAFF_AUDIENCE = "healthcode:staff"
VENUE_AUDIENCE = "healthcode:venue"
# The ``issued_by`` claim of a token the operator minted (for a member of staff, a person, a
# venue device): no sign-in.
OPERATOR_ISSUED = "operator"
# The claim of a person's session naming the operator's sign-in link it was opened with.
OPENED_WITH = "opened_with"
STAFF_ROLES = frozenset({"official", "supervisor", "hotline", "auditor"})
VERIFIED_CACHE = 8192  # tokens whose signature and claims were checked, most recent first
REVOCATION_BATCH = 500  # token ids looked up in one statement at most


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
    operator_issued: bool = False  # minted by the operator, not given at a sign-in
    # A session's: the id of the operator's sign-in link it was opened with (`OPENED_WITH`).
    opened_with: str | None = None

    @property
    def operator_token(self) -> str | None:
        """The id of the token the operator issued that this one acts with: itself, or the
        sign-in link its session was opened with; None for a token given at a sign-in."""
        return self.token_id if self.operator_issued else self.opened_with


class Tokens:
    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        retired_keys: Sequence[Ed25519PublicKey] = (),
        is_revoked: Callable[[str], bool] = lambda _jti: False,
        revoked_among: Callable[[Sequence[str]], set[str]] | None = None,
        revoke: Callable[[str, datetime], bool] | None = None,
    ) -> None:
        """``is_revoked(jti)``, and ``revoked_among(jtis)``, which of many are (by default,
        ``is_revoked`` of each), read the store's revocations; ``revoke(jti, at)`` records
        one, and says whether it was not recorded already."""
        self._key = signing_key
        self._revoke = revoke
        self.key_id = key_id_of(signing_key.public_key())
        self._verifiers = {key_id_of(k): k for k in (signing_key.public_key(), *retired_keys)}
        self._is_revoked = is_revoked
        self._revoked_among = revoked_among or (
            lambda jtis: {jti for jti in jtis if is_revoked(jti)}
        )
        # Successes only (an exception is not cached), keyed by the exact token text.
        self._checked = lru_cache(maxsize=VERIFIED_CACHE)(self._check)
        self._revocations: BatchWorker[str, bool] = BatchWorker(
            "healthcode-revocations", self._look_up, limit=REVOCATION_BATCH
        )

    def mint(
        self, subject: str, *, role: str, now: datetime, ttl: timedelta,
        audience: str | None = None, token_id: str | None = None, operator: bool = False,
        opened_with: str | None = None,
    ) -> str:  # fmt: skip
        """A signed token; ``token_id`` is its ``jti`` (random unless given: an operator's
        mint logs it first); ``operator`` marks it ``issued_by: operator``; ``opened_with``
        names the operator's sign-in link a session is opened with."""
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "aud": audience or audience_for(role),
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": token_id or secrets.token_hex(16),
        }
        if operator:
            payload["issued_by"] = OPERATOR_ISSUED
        if opened_with is not None:
            payload[OPENED_WITH] = opened_with
        return jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self.key_id})

    def verify(self, token: str, *, audience: str | Sequence[str], now: datetime) -> Claims:
        """The token's claims, if it is valid at ``now`` and not revoked."""
        claims = self.check(token, audience=audience, now=now)
        if self._is_revoked(claims.token_id):
            raise Unauthorized("auth.invalid_token", "revoked")
        return claims

    def check(self, token: str, *, audience: str | Sequence[str], now: datetime) -> Claims:
        """Everything `verify` checks but revocation (`revoked_later`), in the same order."""
        audiences = audience if isinstance(audience, str) else tuple(audience)
        subject, role, aud, issued, expires, token_id, operator, opened_with = self._checked(
            token, audiences
        )
        # Expiry is checked against the injected clock, not the machine's, on every call.
        expires_at = datetime.fromtimestamp(expires, now.tzinfo)
        if now >= expires_at:
            raise Unauthorized("auth.invalid_token", "expired")
        return Claims(
            subject=subject,
            role=role,
            audience=aud,
            issued_at=datetime.fromtimestamp(issued, now.tzinfo),
            expires_at=expires_at,
            token_id=token_id,
            operator_issued=operator,
            opened_with=opened_with,
        )

    def sign_out(self, token: str, *, audience: str, now: datetime) -> bool:
        """Revoke ``token`` from ``now`` if it is a valid one of ``audience`` (a session being
        signed out): a copy of it, kept elsewhere, is refused from the next request on.
        Whether it was revoked (an invalid or expired token needs nothing)."""
        if self._revoke is None:
            raise RuntimeError("these tokens were built without a store to revoke them in")
        try:
            claims = self.check(token, audience=audience, now=now)
        except Unauthorized:
            return False
        self._revoke(claims.token_id, now)
        return True

    def redeem(self, token: str, *, audience: str, now: datetime) -> Claims:
        """Spend a one-time token (a sign-in link) at ``now``: its claims, if it is valid and
        was never spent nor revoked; from then on it is revoked, so the link, found again in a
        browser's history or a forwarded message, signs no one in. Of two requests spending
        it at once, one wins (`revoke` inserts by the token id)."""
        if self._revoke is None:
            raise RuntimeError("these tokens were built without a store to revoke them in")
        claims = self.check(token, audience=audience, now=now)
        if not self._revoke(claims.token_id, now):
            raise Unauthorized("auth.invalid_token", "already used")
        return claims

    def revoked_later(self, token_id: str) -> Future[bool]:
        """Whether the token is revoked, as the store says once this call has returned (the
        revocation thread looks it up with the others asked about meanwhile)."""
        return self._revocations.submit(token_id)

    def _look_up(self, token_ids: list[str]) -> list[tuple[bool | None, BaseException | None]]:
        revoked = self._revoked_among(token_ids)
        return [(token_id in revoked, None) for token_id in token_ids]

    def _check(
        self, token: str, audience: str | tuple[str, ...]
    ) -> tuple[str, str, str, Any, Any, str, bool, str | None]:
        """The signature, algorithm, issuer, audience and required claims: what does not
        depend on the instant or the store. (subject, role, audience, iat, exp, jti,
        whether the operator issued it, the sign-in link a session was opened with)."""
        try:
            header = jwt.get_unverified_header(token)
            key = self._verifiers.get(str(header.get("kid")))
            if key is None:
                raise Unauthorized("auth.invalid_token", "unknown key id")
            payload = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=list(audience) if isinstance(audience, tuple) else audience,
                issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise Unauthorized("auth.invalid_token", type(exc).__name__) from None
        return (
            str(payload["sub"]),
            str(payload.get("role", "")),
            str(payload["aud"]),
            payload["iat"],
            payload["exp"],
            str(payload["jti"]),
            payload.get("issued_by") == OPERATOR_ISSUED,
            None if payload.get(OPENED_WITH) is None else str(payload[OPENED_WITH]),
        )
