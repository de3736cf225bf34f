"""Suspending or revoking an evidence source (a compromised lab, a stolen device key).

From the instant of revocation on, its evidence is set aside for everyone, everyone it touched
is recomputed, and the act is logged. Only a supervisor of the source's authority may do it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from healthcode.domain.log_entries import registry_entry
from healthcode.errors import InputRejected, NotFound, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.orders import Actor
from healthcode.store import registry as registry_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store import tables as t
from healthcode.store.database import Database

REASONS = frozenset({"key_compromised", "fabricated_evidence", "decommissioned"})


class Sources:
    def __init__(self, db: Database, derivation: Derivation) -> None:
        self._db = db
        self._derivation = derivation

    def revoke(self, actor: Actor, source_id: str, *, reason: str, now: datetime) -> int:
        """Revoke from now on (history is never rewritten); returns the status changes made."""
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", "only supervisors revoke sources")
        if reason not in REASONS:
            raise InputRejected("request.malformed", f"reason must be one of {sorted(REASONS)}")
        effective = now
        with self._db.write() as conn:
            source = registry_repo.source(conn, source_id)
            if source is None:
                raise NotFound("source.not_found")
            if source.authority_id != actor.authority_id:
                raise Unauthorized("auth.forbidden", "the source belongs to another authority")
            record = {
                "id": source_id,
                "revoked_from": effective.isoformat(),
                "reason": reason,
                "by_authority": actor.authority_id,
            }
            index = transparency.append_one(
                conn, "registry", registry_entry("source_revocation", record, now), now
            )
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index, act="registry",
                now=now,
            )  # fmt: skip
            conn.execute(t.sources.update().where(t.sources.c.id == source_id).values(active=False))
            set_aside_repo.insert(
                conn, person_key=None, source_id=source_id, record_id=None, effective_at=effective,
                recorded_at=now, reason=reason, log_index=index,
            )  # fmt: skip
            touched = set(
                conn.scalars(
                    select(t.evidence.c.person_key)
                    .where(t.evidence.c.source_id == source_id)
                    .distinct()
                )
            )
            return len(self._derivation.recompute(conn, touched, now=now, cause=Cause.INPUT))
