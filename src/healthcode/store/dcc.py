"""Rows of the DCC trust list (document signer certificates) and of holders' identity attributes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from healthcode.domain.dcc import HolderIdentity
from healthcode.store import tables as t
from healthcode.store.upsert import upsert


@dataclass(frozen=True)
class StoredSigner:
    fingerprint: str
    kid: str
    country: str
    source_id: str
    certificate: bytes
    not_before: datetime
    not_after: datetime
    kinds: tuple[str, ...]
    added_at: datetime
    added_by: str
    log_index: int
    removed_at: datetime | None
    remove_reason: str | None

    @property
    def active(self) -> bool:
        return self.removed_at is None


def _signer(row: Row[Any]) -> StoredSigner:
    return StoredSigner(
        fingerprint=row.fingerprint,
        kid=row.kid,
        country=row.country,
        source_id=row.source_id,
        certificate=bytes(row.certificate),
        not_before=row.not_before,
        not_after=row.not_after,
        kinds=tuple(row.kinds.split()),
        added_at=row.added_at,
        added_by=row.added_by,
        log_index=int(row.log_index),
        removed_at=row.removed_at,
        remove_reason=row.remove_reason,
    )


def signer(conn: Connection, fingerprint: str) -> StoredSigner | None:
    row = conn.execute(select(t.dcc_signers).where(t.dcc_signers.c.fingerprint == fingerprint))
    found = row.first()
    return None if found is None else _signer(found)


def signers(
    conn: Connection, *, active_only: bool = False, kid: str | None = None
) -> list[StoredSigner]:
    query = select(t.dcc_signers).order_by(t.dcc_signers.c.country, t.dcc_signers.c.kid)
    if active_only:
        query = query.where(t.dcc_signers.c.removed_at.is_(None))
    if kid is not None:
        query = query.where(t.dcc_signers.c.kid == kid)
    return [_signer(row) for row in conn.execute(query)]


def version(conn: Connection) -> tuple[int, int, int]:
    """Changes whenever the trust list does: rows, last addition, last removal."""
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.max(t.dcc_signers.c.log_index), -1),
            func.coalesce(func.max(t.dcc_signers.c.remove_log_index), -1),
        ).select_from(t.dcc_signers)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def save_signer(
    conn: Connection,
    *,
    fingerprint: str,
    kid: str,
    country: str,
    source_id: str,
    certificate: bytes,
    not_before: datetime,
    not_after: datetime,
    kinds: list[str],
    added_at: datetime,
    added_by: str,
    log_index: int,
) -> None:
    """Add a signer, or put a removed one back (its removal stays in the log)."""
    upsert(
        conn,
        t.dcc_signers,
        {
            "fingerprint": fingerprint, "kid": kid, "country": country, "source_id": source_id,
            "certificate": certificate, "not_before": not_before, "not_after": not_after,
            "kinds": " ".join(sorted(kinds)), "added_at": added_at, "added_by": added_by,
            "log_index": log_index, "removed_at": None, "removed_by": None,
            "remove_reason": None, "remove_log_index": None,
        },
    )  # fmt: skip


def remove_signer(
    conn: Connection, fingerprint: str, *, at: datetime, by: str, reason: str, log_index: int
) -> None:
    conn.execute(
        t.dcc_signers.update()
        .where(t.dcc_signers.c.fingerprint == fingerprint)
        .values(removed_at=at, removed_by=by, remove_reason=reason, remove_log_index=log_index)
    )


def save_identity(conn: Connection, person_key: str, identity: HolderIdentity) -> None:
    upsert(
        conn,
        t.person_identities,
        {
            "person_key": person_key,
            "family_name": identity.family_name,
            "given_name": identity.given_name,
            "birth_date": identity.birth_date.isoformat() if identity.birth_date else None,
        },
    )


def save_identities(conn: Connection, rows: list[tuple[str, HolderIdentity]]) -> None:
    """Identity attributes of many newly registered people (known keys are skipped)."""
    keys = [key for key, _ in rows]
    known = (
        set(
            conn.scalars(
                select(t.person_identities.c.person_key).where(
                    t.person_identities.c.person_key.in_(keys)
                )
            )
        )
        if len(keys) <= 500
        else set(conn.scalars(select(t.person_identities.c.person_key)))
    )
    fresh = [
        {"person_key": key, "family_name": i.family_name, "given_name": i.given_name,
         "birth_date": i.birth_date.isoformat() if i.birth_date else None}
        for key, i in rows
        if key not in known
    ]  # fmt: skip
    if fresh:
        conn.execute(t.person_identities.insert(), fresh)


def identity(conn: Connection, person_key: str) -> HolderIdentity | None:
    row = conn.execute(
        select(t.person_identities).where(t.person_identities.c.person_key == person_key)
    ).first()
    if row is None:
        return None
    return HolderIdentity(
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=date.fromisoformat(row.birth_date) if row.birth_date else None,
    )
