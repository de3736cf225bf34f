"""The trust list: issuer keys per authority (and a national issuer), signed and versioned.

Each authority issues passes and identity cards of the people living in its jurisdiction
with a key of its own (usages `pass` and `identity-card`); people whose home area no
authority covers get them from the national issuer. Every key registration, revocation and
every new version of the list is a `registry` entry of the transparency log, written in the
same transaction. The list is signed by the server's trust anchor (RFC 8785 JSON, Ed25519)
and served at `GET /api/v1/trust-list`; verifiers cache it and check it against the anchor
they were given out of band (`GET /api/v1/trust-list/anchors`, `healthcode pass trust-list`).

A supervisor of an authority revokes one of its keys with a reason from the closed list; a
new generation replaces it in the same transaction and the version goes up, so passes
signed by the revoked key fail verification with that reason from then on.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, select

from healthcode.credentials.passes import (
    KeyUsage,
    PassError,
    Revocation,
    RevocationReason,
    TrustedKey,
    TrustList,
    key_id_for,
    parse_trust_list,
    raw_public_key,
    sign_trust_list,
)
from healthcode.domain import areas
from healthcode.domain.log_entries import registry_entry
from healthcode.errors import InputRejected, NotFound, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.orders import Actor
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.places_policy import PlacesPolicy
from healthcode.store import places as repo
from healthcode.store import tables as t
from healthcode.store.database import Database

NATIONAL_ISSUER = "national"
ISSUER_USAGES = (KeyUsage.IDENTITY_CARD, KeyUsage.PASS)


def whole_second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class IssuerKey:
    """A key an issuer signs with now: the trust list lists its public half."""

    issuer: str
    key_id: bytes
    generation: int
    signing_key: Ed25519PrivateKey
    not_after: datetime


@dataclass(frozen=True)
class PublishedTrustList:
    version: int
    trust_list: TrustList
    document: bytes  # the signed JSON, as served
    digest: str


class TrustLists:
    def __init__(self, db: Database, keys: DerivedKeys, policy: PlacesPolicy) -> None:
        self._db = db
        self._keys = keys
        self._policy = policy
        self._cached: PublishedTrustList | None = None
        self._lock = threading.Lock()

    # --- reading -------------------------------------------------------------------------

    def anchors(self) -> dict[bytes, Ed25519PublicKey]:
        anchor = self._keys.anchor()
        return {key_id_for(anchor.public_key()): anchor.public_key()}

    def current(self, conn: Connection | None = None) -> PublishedTrustList | None:
        """The newest signed list (parsed and checked against the anchor once per version)."""
        if conn is None:
            with self._db.read() as read:
                return self.current(read)
        row = repo.latest_trust_list(conn)
        if row is None:
            return None
        cached = self._cached
        if cached is not None and cached.version == row.version:
            return cached
        document = bytes(row.document)
        try:
            parsed = parse_trust_list(document, self.anchors())
        except PassError as exc:  # our own stored list no longer verifies: an operator matter
            raise RuntimeError(f"stored trust list {row.version} does not verify: {exc}") from exc
        published = PublishedTrustList(row.version, parsed, document, row.digest)
        self._cached = published
        return published

    def issuer_for_area(self, conn: Connection, area: str) -> str:
        """The authority whose jurisdiction holds `area` most closely; else the national one."""
        rows = conn.execute(select(t.authority_areas)).all()
        best: tuple[int, str] | None = None
        for row in rows:
            if areas.contains(row.area_code, area):
                candidate = (len(areas.prefix(row.area_code)), row.authority_id)
                if (
                    best is None
                    or candidate[0] > best[0]
                    or (candidate[0] == best[0] and candidate[1] < best[1])
                ):
                    best = candidate
        return best[1] if best else NATIONAL_ISSUER

    def issuer_key(self, issuer: str, now: datetime) -> IssuerKey:
        """The key `issuer` signs with now; registers (and publishes) one if it has none."""
        with self._db.read() as conn:
            found = self._usable(conn, issuer, now)
        if found is not None:
            return found
        with self._lock, self._db.write() as conn:
            found = self._usable(conn, issuer, now)
            if found is None:
                found = self._register(conn, issuer, now)
                self._publish(conn, now)
            return found

    def ensure(self, issuers: list[str], now: datetime) -> int:
        """Register a key for every issuer without a usable one (one new list version)."""
        made = 0
        with self._lock, self._db.write() as conn:
            for issuer in issuers:
                if self._usable(conn, issuer, now) is None:
                    self._register(conn, issuer, now)
                    made += 1
            if made or repo.latest_trust_list(conn) is None:
                self._publish(conn, now)
        return made

    def all_issuers(self) -> list[str]:
        with self._db.read() as conn:
            ids = sorted(conn.scalars(select(t.authorities.c.id)))
        return [*ids, NATIONAL_ISSUER]

    def _usable(self, conn: Connection, issuer: str, now: datetime) -> IssuerKey | None:
        """The newest unrevoked key of `issuer` that outlives anything it would sign now."""
        rows = conn.execute(
            select(t.trust_keys)
            .where(t.trust_keys.c.issuer == issuer, t.trust_keys.c.revoked_at.is_(None))
            .order_by(t.trust_keys.c.generation.desc())
        ).all()
        horizon = now + max(self._policy.pass_lifetime, self._policy.card_lifetime)
        for row in rows:
            if row.not_before <= now and horizon < row.not_after:
                key = self._keys.issuer(issuer, row.generation)
                if raw_public_key(key.public_key()) != bytes(row.public_key):
                    raise RuntimeError(f"issuer key {row.key_id} does not match the places secret")
                return IssuerKey(issuer, bytes.fromhex(row.key_id), row.generation, key,
                                 row.not_after)  # fmt: skip
        return None

    # --- writing (inside the caller's write transaction) ---------------------------------

    def _register(self, conn: Connection, issuer: str, now: datetime) -> IssuerKey:
        generations = conn.scalars(
            select(t.trust_keys.c.generation).where(t.trust_keys.c.issuer == issuer)
        ).all()
        generation = max(generations, default=0) + 1
        private = self._keys.issuer(issuer, generation)
        public = private.public_key()
        start = whole_second(now)
        key = TrustedKey.of(
            public,
            issuer=issuer,
            usages=ISSUER_USAGES,
            not_before=start,
            not_after=start + self._policy.key_lifetime,
        )
        record = {
            "key_id": key.key_id.hex(),
            "issuer": issuer,
            "public_key": b64url(key.public_key),
            "usages": sorted(u.value for u in key.usages),
            "not_before": start.isoformat(),
            "not_after": key.not_after.isoformat(),
            "generation": generation,
        }
        index = transparency.append_one(
            conn, "registry", registry_entry("trust_key", record, now), now
        )
        repo.insert_trust_key(
            conn,
            {
                "key_id": key.key_id.hex(),
                "issuer": issuer,
                "generation": generation,
                "public_key": key.public_key,
                "usages": " ".join(sorted(u.value for u in key.usages)),
                "not_before": key.not_before,
                "not_after": key.not_after,
                "registered_at": now,
                "log_index": index,
            },
        )
        return IssuerKey(issuer, key.key_id, generation, private, key.not_after)

    def _publish(self, conn: Connection, now: datetime) -> PublishedTrustList:
        rows = conn.execute(
            select(t.trust_keys).order_by(t.trust_keys.c.registered_at, t.trust_keys.c.key_id)
        ).all()
        latest = repo.latest_trust_list(conn)
        version = (latest.version if latest else 0) + 1
        issued_at = whole_second(now)
        trust_list = TrustList(
            version=version,
            issued_at=issued_at,
            keys=tuple(
                TrustedKey(
                    key_id=bytes.fromhex(row.key_id),
                    issuer=row.issuer,
                    public_key=bytes(row.public_key),
                    usages=frozenset(KeyUsage(u) for u in row.usages.split()),
                    not_before=row.not_before,
                    not_after=row.not_after,
                )
                for row in rows
            ),
            revocations=tuple(
                Revocation(
                    bytes.fromhex(row.key_id),
                    row.revoked_at,
                    RevocationReason(row.revocation_reason),
                )
                for row in rows
                if row.revoked_at is not None
            ),
        )
        document = sign_trust_list(trust_list, self._keys.anchor())
        digest = hashlib.sha256(document).hexdigest()
        record = {
            "version": version,
            "issued_at": issued_at.isoformat(),
            "digest": digest,
            "anchor": self._keys.anchor_id().hex(),
            "keys": len(trust_list.keys),
            "revocations": len(trust_list.revocations),
        }
        index = transparency.append_one(
            conn, "registry", registry_entry("trust_list", record, now), now
        )
        repo.insert_trust_list(
            conn,
            {"version": version, "issued_at": issued_at, "document": document,
             "digest": digest, "log_index": index},
        )  # fmt: skip
        return PublishedTrustList(version, trust_list, document, digest)

    def revoke(
        self, actor: Actor, key_id_hex: str, *, reason: str, now: datetime
    ) -> PublishedTrustList:
        """Revoke an issuer key of the actor's authority from now on; a new one replaces it."""
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", "only supervisors revoke keys")
        try:
            why = RevocationReason(reason)
        except ValueError:
            raise InputRejected(
                "trust.reason_invalid", f"one of {sorted(r.value for r in RevocationReason)}"
            ) from None
        with self._lock, self._db.write() as conn:
            row = repo.trust_key(conn, key_id_hex.lower())
            if row is None:
                raise NotFound("trust.key_not_found")
            if row.issuer != actor.authority_id:
                raise Unauthorized("auth.forbidden", "the key belongs to another issuer")
            if row.revoked_at is not None:
                raise InputRejected("trust.key_already_revoked")
            at = whole_second(now)
            record = {
                "key_id": row.key_id,
                "issuer": row.issuer,
                "revoked_at": at.isoformat(),
                "reason": why.value,
                "by_authority": actor.authority_id,
            }
            index = transparency.append_one(
                conn, "registry", registry_entry("trust_key_revocation", record, now), now
            )
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index, act="registry",
                now=now,
            )  # fmt: skip
            repo.revoke_trust_key(
                conn, row.key_id, at=at, reason=why.value, by=actor.id, log_index=index
            )
            self._register(conn, row.issuer, now)
            return self._publish(conn, now)
