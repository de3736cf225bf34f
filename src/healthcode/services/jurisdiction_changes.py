"""A wider jurisdiction for an authority with a supervisor: proposed by a registry load
(`services/registry_proposals.py`), in effect only once a supervisor of that authority
co-signs it, before it expires; or withdrawn. Each step is logged in the transaction that
records it (docs/api.md, "Source keys"), as for a source's key (`services/source_keys.py`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.jurisdiction_changes import (
    JurisdictionChange,
    cosign_entry,
    withdrawal_entry,
)
from healthcode.domain.source_keys import State
from healthcode.errors import Detail, InputRejected, NotFound, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import Actor
from healthcode.services.source_keys import staff_secret
from healthcode.store import jurisdiction_changes as repo
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database


class JurisdictionChanges:
    def __init__(self, db: Database, secrets: PersonSecrets) -> None:
        self._db = db
        self._secrets = secrets

    def cosign(self, actor: Actor, change_id: str, *, now: datetime) -> JurisdictionChange:
        """Put a pending widening in effect from now: the authority's jurisdiction is replaced
        by the proposed one. The operator proposed it, so any supervisor of the authority
        co-signs it."""
        if actor.role != "supervisor":
            raise Unauthorized(
                "auth.forbidden", Detail("only supervisors co-sign a jurisdiction change")
            )
        with self._db.write() as conn:
            change = _pending(conn, actor, change_id, now)
            if staff_repo.jurisdiction(conn, change.authority_id) != change.previous:
                raise InputRejected("jurisdiction_change.stale")
            secret = staff_secret(self._secrets, conn, actor.id, now)
            assert secret is not None
            [index] = transparency.append(conn, [("jurisdiction_cosign", lambda i: cosign_entry(
                index=i, change_id=change.id, authority_id=change.authority_id,
                supervisor_secret=secret, at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="jurisdiction_cosign", now=now,
            )  # fmt: skip
            change = replace(
                change, status="cosigned", decided_by=actor.id, decided_at=now,
                decision_log_index=index,
            )  # fmt: skip
            registry_repo.set_jurisdiction(conn, change.authority_id, change.jurisdiction)
            repo.decide(conn, change)
        return change

    def withdraw(self, actor: Actor | None, change_id: str, *, now: datetime) -> JurisdictionChange:
        """Withdraw a pending widening: a supervisor of the authority, or (``actor`` None)
        the operator."""
        if actor is not None and actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", Detail("only a supervisor or the operator"))
        with self._db.write() as conn:
            change = _pending(conn, actor, change_id, now)
            by = None if actor is None else actor.id
            secret = staff_secret(self._secrets, conn, by, now)
            [index] = transparency.append(conn, [("jurisdiction_withdrawal", lambda i: withdrawal_entry(
                index=i, change_id=change.id, authority_id=change.authority_id,
                withdrawn_by_secret=secret, at=now,
            ))], now)  # fmt: skip
            if actor is not None:
                staff_tokens.record_use(
                    conn, actor.operator_token, staff_id=actor.id, act_index=index,
                    act="jurisdiction_withdrawal", now=now,
                )  # fmt: skip
            change = replace(
                change, status="withdrawn", decided_by=by, decided_at=now, decision_log_index=index
            )
            repo.decide(conn, change)
        return change

    def of_authority(
        self, authority_id: str, *, now: datetime, state: State | None = None
    ) -> list[JurisdictionChange]:
        """The authority's jurisdiction changes, newest first; only those in ``state`` now."""
        stored = "pending" if state in ("pending", "expired") else state
        with self._db.read() as conn:
            found = repo.of_authority(conn, authority_id, status=stored)
        return [c for c in found if state is None or c.state(now) == state]


def _pending(
    conn: Connection, actor: Actor | None, change_id: str, now: datetime
) -> JurisdictionChange:
    """The change, refused unless it is pending now and of the actor's authority."""
    change = repo.find(conn, change_id)
    if change is None:
        raise NotFound("jurisdiction_change.not_found")
    if actor is not None and change.authority_id != actor.authority_id:
        raise Unauthorized("auth.forbidden", Detail("the change is another authority's"))
    state = change.state(now)
    if state == "expired":
        raise InputRejected("jurisdiction_change.expired")
    if state != "pending":
        raise InputRejected("jurisdiction_change.not_pending")
    return change
