"""A source's new key or kinds: proposed by the operator or an official of its authority, in
effect only once a different supervisor of that authority co-signs it (DESIGN, users:
"Supervisor — co-signs ... key changes"), before it expires. Each step is logged in the
transaction that records it (docs/api.md, "Source keys"). A new source a registry load
proposed (`services/registry_proposals.py`) is such a change of a source with no key yet: its
co-signature registers it.

From the co-signature on, a batch verifies with the new key alone. A batch carries no signing
time, and its records' times are the signer's word: trusting them to pick the old key would let
whoever holds that key sign "old" evidence for ever. So a batch the old key signed that arrives
after the change is refused, and the source signs it again with its new key: its records keep
their times, and a batch stored before is recognised as the same (its signed content, not its
signature, is what intake compares).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from secrets import token_hex

from sqlalchemy import Connection

from healthcode.domain.batches import SourceRegistration
from healthcode.domain.dcc import DCC_AUTHORITY
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.source_keys import (
    KeyChange,
    State,
    cosign_entry,
    proposal_entry,
    withdrawal_entry,
)
from healthcode.errors import Detail, InputRejected, NotFound, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import Actor, staff_secret_key
from healthcode.services.registry import public_key_bytes
from healthcode.services.scan_sources import scan_source_id
from healthcode.store import registry as registry_repo
from healthcode.store import source_keys as repo
from healthcode.store.database import Database


class SourceKeys:
    def __init__(self, db: Database, secrets: PersonSecrets, lifetime: timedelta) -> None:
        self._db = db
        self._secrets = secrets
        self._lifetime = lifetime

    def propose(
        self, proposer: Actor | None, source_id: str, public_key: str,
        kinds: Iterable[str] | None, *, now: datetime,
    ) -> KeyChange:  # fmt: skip
        """Propose a new key (and kinds; None keeps the source's). ``proposer``: an official
        or supervisor of the source's authority; None for the operator."""
        if proposer is not None and proposer.role not in ("official", "supervisor"):
            raise Unauthorized("auth.forbidden", "only officials and supervisors propose")
        raw = public_key_bytes(public_key, "public_key", "source_key.invalid_key")
        try:
            wanted = None if kinds is None else frozenset(EvidenceKind(k) for k in kinds)
        except ValueError:
            raise InputRejected("request.malformed", Detail("kinds: not evidence kinds")) from None
        if wanted is not None and not wanted:
            raise InputRejected("request.malformed", Detail("kinds: at least one"))
        with self._db.write() as conn:
            source = registry_repo.source(conn, source_id)
            if source is None:
                raise NotFound("source.not_found")
            if proposer is not None and source.authority_id != proposer.authority_id:
                raise Unauthorized(
                    "auth.forbidden", Detail("the source belongs to another authority")
                )
            if _server_owned(source):
                raise InputRejected("source_key.server_owned")
            if not source.active:
                raise InputRejected("source.inactive")
            new_kinds = source.kinds if wanted is None else wanted
            if raw == source.public_key and new_kinds == source.kinds:
                raise InputRejected("source_key.unchanged")
            if any(c.state(now) == "pending" for c in repo.pending_of_source(conn, source_id)):
                raise InputRejected("source_key.pending_exists")
            change = KeyChange(
                id="key-" + token_hex(8), source_id=source_id, authority_id=source.authority_id,
                public_key=raw, kinds=new_kinds, previous_key=source.public_key,
                previous_kinds=source.kinds, proposed_by=None if proposer is None else proposer.id,
                proposed_at=now, expires_at=now + self._lifetime, status="pending",
                decided_by=None, decided_at=None, log_index=0, decision_log_index=None,
            )  # fmt: skip
            secret = self._staff_secret(conn, change.proposed_by, now)
            [index] = transparency.append(conn, [("source_key_proposal", lambda i: proposal_entry(
                change, index=i, proposer_secret=secret,
            ))], now)  # fmt: skip
            if proposer is not None:
                staff_tokens.record_use(
                    conn, proposer.operator_token, staff_id=proposer.id, act_index=index,
                    act="source_key_proposal", now=now,
                )  # fmt: skip
            change = replace(change, log_index=index)
            repo.insert(conn, change)
        return change

    def cosign(self, actor: Actor, change_id: str, *, now: datetime) -> KeyChange:
        """Put a pending change in effect from now: the source's key and kinds are replaced,
        or a new source (proposed by a load, `services/registry_proposals.py`) registered."""
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", "only supervisors co-sign a key change")
        with self._db.write() as conn:
            change = self._pending(conn, actor, change_id, now)
            if change.proposed_by == actor.id:
                raise Unauthorized("source_key.cosign_self")
            source = registry_repo.source(conn, change.source_id)
            if change.new_source is not None:
                # Registered meanwhile, by a load while the authority had no supervisor.
                if source is not None:
                    raise InputRejected("source_key.stale")
            elif source is None or not source.active:
                raise InputRejected("source.inactive")
            elif (source.public_key, source.kinds, source.authority_id) != (
                change.previous_key, change.previous_kinds, change.authority_id
            ):  # fmt: skip
                raise InputRejected("source_key.stale")
            secret = self._staff_secret(conn, actor.id, now)
            assert secret is not None
            [index] = transparency.append(conn, [("source_key_cosign", lambda i: cosign_entry(
                index=i, change_id=change.id, source_id=change.source_id,
                authority_id=change.authority_id, supervisor_secret=secret, at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="source_key_cosign", now=now,
            )  # fmt: skip
            change = replace(
                change, status="cosigned", decided_by=actor.id, decided_at=now,
                decision_log_index=index,
            )  # fmt: skip
            if change.new_source is None:
                registry_repo.set_source_key(
                    conn, change.source_id, change.public_key, change.kinds
                )
            else:
                registration = SourceRegistration(
                    id=change.source_id, authority_id=change.authority_id,
                    public_key=change.public_key, kinds=change.kinds, area=change.new_source.area,
                )  # fmt: skip
                registry_repo.save_source(conn, registration, change.new_source.name, now)
            repo.decide(conn, change)
        return change

    def withdraw(self, actor: Actor | None, change_id: str, *, now: datetime) -> KeyChange:
        """Withdraw a pending change: by its proposer, a supervisor of the source's authority,
        or (``actor`` None) the operator."""
        with self._db.write() as conn:
            change = self._pending(conn, actor, change_id, now)
            if actor is not None and actor.role != "supervisor" and actor.id != change.proposed_by:
                raise Unauthorized("auth.forbidden", "only its proposer or a supervisor")
            by = None if actor is None else actor.id
            secret = self._staff_secret(conn, by, now)
            [index] = transparency.append(conn, [("source_key_withdrawal", lambda i: withdrawal_entry(
                index=i, change_id=change.id, source_id=change.source_id,
                authority_id=change.authority_id, withdrawn_by_secret=secret, at=now,
            ))], now)  # fmt: skip
            if actor is not None:
                staff_tokens.record_use(
                    conn, actor.operator_token, staff_id=actor.id, act_index=index,
                    act="source_key_withdrawal", now=now,
                )  # fmt: skip
            change = replace(
                change, status="withdrawn", decided_by=by, decided_at=now, decision_log_index=index
            )
            repo.decide(conn, change)
        return change

    def proposable_sources(self, authority_id: str) -> list[SourceRegistration]:
        """The authority's sources a proposal may name (the console's choice): active ones
        with a key of their own, not the server's."""
        with self._db.read() as conn:
            found = registry_repo.sources_of_authority(conn, authority_id)
        return [source for source in found if source.active and not _server_owned(source)]

    def of_authority(
        self, authority_id: str, *, now: datetime, state: State | None = None
    ) -> list[KeyChange]:
        """The authority's key changes, newest first; only those in ``state`` now if given."""
        stored = "pending" if state in ("pending", "expired") else state
        with self._db.read() as conn:
            found = repo.of_authority(conn, authority_id, status=stored)
        return [c for c in found if state is None or c.state(now) == state]

    @staticmethod
    def _pending(conn: Connection, actor: Actor | None, change_id: str, now: datetime) -> KeyChange:
        """The change, refused unless it is pending now and of the actor's authority."""
        change = repo.find(conn, change_id)
        if change is None:
            raise NotFound("source_key.not_found")
        if actor is not None and change.authority_id != actor.authority_id:
            raise Unauthorized("auth.forbidden", Detail("the source belongs to another authority"))
        state = change.state(now)
        if state == "expired":
            raise InputRejected("source_key.expired")
        if state != "pending":
            raise InputRejected("source_key.not_pending")
        return change

    def _staff_secret(self, conn: Connection, staff_id: str | None, now: datetime) -> bytes | None:
        return staff_secret(self._secrets, conn, staff_id, now)


def staff_secret(
    secrets: PersonSecrets, conn: Connection, staff_id: str | None, now: datetime
) -> bytes | None:
    """The staff member's secret (escrowed if it is not yet), for their actor tag; None for
    the operator."""
    if staff_id is None:
        return None
    key = staff_secret_key(staff_id)
    secrets.escrow_missing(conn, [key], now)
    return secrets.secret(key)


def _server_owned(source: SourceRegistration) -> bool:
    """A source whose key is not its own: the server's scans, or an EU DCC country's."""
    return source.authority_id == DCC_AUTHORITY or source.id == scan_source_id(source.authority_id)
