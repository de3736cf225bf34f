"""New rulebook editions: proposed by an official, published only with a supervisor's
co-signature, never back-dated, versions only going up (invariant 2)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from healthcode.domain.canonical import canonical
from healthcode.domain.log_entries import rulebook_proposal_entry
from healthcode.errors import InputRejected, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import Actor, staff_secret_key
from healthcode.services.rulebooks import Edition, Rulebooks, parse_source
from healthcode.store import rulebooks as rulebook_repo
from healthcode.store import tables as t
from healthcode.store.database import Database


@dataclass(frozen=True)
class Proposal:
    version: int
    digest: str
    authority_id: str
    proposed_by: str
    proposed_at: datetime
    effective_from: datetime
    status: str


class RulebookProposals:
    def __init__(self, db: Database, rulebooks: Rulebooks, secrets: PersonSecrets) -> None:
        self._db = db
        self._rulebooks = rulebooks
        self._secrets = secrets

    def propose(
        self, actor: Actor, source: object, *, effective_from: datetime | None, now: datetime
    ) -> Proposal:
        if actor.role not in ("official", "supervisor"):
            raise Unauthorized("auth.forbidden")
        rulebook = parse_source(source)
        effective = effective_from or now
        if effective < now:
            raise InputRejected("rulebook.backdated")
        encoded = canonical(rulebook.source)
        digest = hashlib.sha256(encoded).hexdigest()
        with self._db.write() as conn:
            published = rulebook_repo.editions(conn)
            pending = conn.scalar(
                select(t.rulebook_proposals.c.version).where(
                    t.rulebook_proposals.c.version >= rulebook.version
                )
            )
            if (published and rulebook.version <= published[-1].version) or pending is not None:
                raise InputRejected("rulebook.version_not_increasing")
            secret = self._secrets.secret(staff_secret_key(actor.id))
            self._secrets.escrow_missing(conn, [staff_secret_key(actor.id)], now)
            [index] = transparency.append(conn, [("rulebook_proposal", lambda i: rulebook_proposal_entry(
                index=i, official_secret=secret, version=rulebook.version, digest=digest,
                authority_id=actor.authority_id, effective_from=effective, proposed_at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="rulebook_proposal", now=now,
            )  # fmt: skip
            conn.execute(t.rulebook_proposals.insert().values(
                version=rulebook.version, source=encoded.decode(), digest=digest,
                authority_id=actor.authority_id, proposed_by=actor.id, proposed_at=now,
                effective_from=effective, status="pending", log_index=index,
            ))  # fmt: skip
        return Proposal(
            rulebook.version, digest, actor.authority_id, actor.id, now, effective, "pending"
        )

    def cosign(self, actor: Actor, version: int, *, now: datetime) -> Edition:
        """Publish a pending edition; its effect starts no earlier than now."""
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", "only supervisors co-sign a rulebook edition")
        with self._db.write() as conn:
            row = conn.execute(
                select(t.rulebook_proposals).where(t.rulebook_proposals.c.version == version)
            ).first()
            if row is None or row.status != "pending" or row.authority_id != actor.authority_id:
                raise InputRejected("rulebook.not_pending")
            if row.proposed_by == actor.id:
                raise Unauthorized("rulebook.cosign_self")
            if row.effective_from < now:
                raise InputRejected(
                    "rulebook.backdated", "its proposed start has passed; propose it again"
                )
            edition = self._rulebooks.publish(
                conn, json.loads(row.source), now=now, effective_from=row.effective_from
            )
            if actor.operator_token is not None:  # the edition's own entry is the act
                published = conn.execute(
                    select(t.rulebooks.c.log_index).where(t.rulebooks.c.version == version)
                ).scalar_one()
                staff_tokens.record_use(
                    conn, actor.operator_token, staff_id=actor.id, act_index=int(published),
                    act="rulebook", now=now,
                )  # fmt: skip
            conn.execute(
                t.rulebook_proposals.update()
                .where(t.rulebook_proposals.c.version == version)
                .values(status="published", cosigned_by=actor.id)
            )
        return edition

    def pending(self, authority_id: str) -> list[Proposal]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(t.rulebook_proposals).where(
                    t.rulebook_proposals.c.authority_id == authority_id,
                    t.rulebook_proposals.c.status == "pending",
                )
            ).all()
        return [_proposal(r) for r in rows]

    def find(self, version: int) -> Proposal | None:
        """The proposal of edition ``version``, whatever became of it."""
        with self._db.read() as conn:
            row = conn.execute(
                select(t.rulebook_proposals).where(t.rulebook_proposals.c.version == version)
            ).first()
        return None if row is None else _proposal(row)


def _proposal(row: Row[Any]) -> Proposal:
    return Proposal(
        row.version, row.digest, row.authority_id, row.proposed_by, row.proposed_at,
        row.effective_from, row.status,
    )  # fmt: skip
