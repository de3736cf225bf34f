"""What a registry load proposes instead of applying: a new source, or a wider jurisdiction, of
an authority that has a supervisor (docs/api.md, "Source keys").

Before an authority has ever had a supervisor nobody could co-sign anything for it, so a load
sets it up directly (a deployment's, the demo's and the tests' first load). From then on a new
source is proposed as a key change of a source with no key yet (`services/source_keys.py`
co-signs it and so registers it), and a wider jurisdiction as a jurisdiction change
(`services/jurisdiction_changes.py`). Each proposal is logged in the load's transaction; the
operator proposes, so any supervisor of the authority may co-sign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from secrets import token_hex

from sqlalchemy import Connection

from healthcode.domain.batches import SourceRegistration
from healthcode.domain.jurisdiction_changes import JurisdictionChange
from healthcode.domain.jurisdiction_changes import proposal_entry as jurisdiction_entry
from healthcode.domain.source_keys import KeyChange, NewSource, proposal_entry
from healthcode.errors import InputRejected
from healthcode.services import transparency
from healthcode.store import jurisdiction_changes as jurisdiction_repo
from healthcode.store import source_keys as source_keys_repo
from healthcode.store import staff as staff_repo


def needs_cosignature(conn: Connection, authority_id: str) -> bool:
    """Whether a new source or a wider jurisdiction of this authority waits for a supervisor:
    once it has had one, whether or not one is active now. Else the operator could deactivate
    its supervisors (or demote them), load, and bring them back; the load then waits for a
    supervisor to be active again (oversight's ``staff_registry`` flags the last one's going
    and a member brought back)."""
    return staff_repo.has_had_supervisor(conn, authority_id)


def propose_source(
    conn: Connection, source: SourceRegistration, name: str, *, now: datetime,
    lifetime: timedelta,
) -> KeyChange | None:  # fmt: skip
    """Propose registering ``source``; None if the very same proposal is pending already (the
    file loaded again), refused if another one is (`source_key.pending_exists`)."""
    new = NewSource(name, source.area)
    for pending in source_keys_repo.pending_of_source(conn, source.id):
        if pending.state(now) != "pending":
            continue
        if (pending.new_source, pending.authority_id, pending.public_key, pending.kinds) == (
            new, source.authority_id, source.public_key, source.kinds
        ):  # fmt: skip
            return None
        raise InputRejected("source_key.pending_exists", f"source {source.id}")
    change = KeyChange(
        id="key-" + token_hex(8), source_id=source.id, authority_id=source.authority_id,
        public_key=source.public_key, kinds=source.kinds, previous_key=None,
        previous_kinds=frozenset(), proposed_by=None, proposed_at=now,
        expires_at=now + lifetime, status="pending", decided_by=None, decided_at=None,
        log_index=0, decision_log_index=None, new_source=new,
    )  # fmt: skip
    [index] = transparency.append(conn, [("source_key_proposal", lambda i: proposal_entry(
        change, index=i, proposer_secret=None,
    ))], now)  # fmt: skip
    change = replace(change, log_index=index)
    source_keys_repo.insert(conn, change)
    return change


def propose_jurisdiction(
    conn: Connection, authority_id: str, wanted: Iterable[str], current: Iterable[str], *,
    now: datetime, lifetime: timedelta,
) -> JurisdictionChange | None:  # fmt: skip
    """Propose ``wanted`` as the authority's whole jurisdiction in place of ``current``; None
    if the very same proposal is pending already, refused if another one is."""
    jurisdiction, previous = frozenset(wanted), frozenset(current)
    for pending in jurisdiction_repo.pending_of_authority(conn, authority_id):
        if pending.state(now) != "pending":
            continue
        if (pending.jurisdiction, pending.previous) == (jurisdiction, previous):
            return None
        raise InputRejected("jurisdiction_change.pending_exists", f"authority {authority_id}")
    change = JurisdictionChange(
        id="jur-" + token_hex(8), authority_id=authority_id, jurisdiction=jurisdiction,
        previous=previous, proposed_at=now, expires_at=now + lifetime, status="pending",
        decided_by=None, decided_at=None, log_index=0, decision_log_index=None,
    )  # fmt: skip
    index = transparency.append_one(conn, "jurisdiction_proposal", jurisdiction_entry(change), now)
    change = replace(change, log_index=index)
    jurisdiction_repo.insert(conn, change)
    return change
