"""Rows of staff (officials, supervisors, hotline, auditors), guardianships and revoked tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from healthcode.store import tables as t
from healthcode.store.keysets import one_of
from healthcode.store.upsert import upsert


@dataclass(frozen=True)
class StaffMember:
    id: str
    role: str
    authority_id: str | None
    area_code: str | None
    name: str
    password_hash: str | None
    active: bool
    password_set_at: datetime | None = None  # when the password was last set (None: unknown)


def save(conn: Connection, member: StaffMember, at: datetime) -> None:
    upsert(
        conn,
        t.staff,
        {
            "id": member.id,
            "role": member.role,
            "authority_id": member.authority_id,
            "area_code": member.area_code,
            "name": member.name,
            "password_hash": member.password_hash,
            "active": member.active,
            "password_set_at": member.password_set_at,
            "registered_at": at,
        },
        keep=("registered_at",),
    )


def set_password_hash(conn: Connection, staff_id: str, password_hash: str, at: datetime) -> None:
    """The member's own password (services/staff_passwords.py), nothing else of them."""
    conn.execute(
        t.staff.update()
        .where(t.staff.c.id == staff_id)
        .values(password_hash=password_hash, password_set_at=at)
    )


def find(conn: Connection, staff_id: str) -> StaffMember | None:
    row = conn.execute(select(t.staff).where(t.staff.c.id == staff_id)).first()
    if row is None:
        return None
    return StaffMember(
        row.id, row.role, row.authority_id, row.area_code, row.name, row.password_hash,
        row.active, row.password_set_at,
    )  # fmt: skip


def of_authority(conn: Connection, authority_id: str) -> list[StaffMember]:
    rows = conn.execute(
        select(t.staff).where(t.staff.c.authority_id == authority_id).order_by(t.staff.c.id)
    )
    return [
        StaffMember(
            r.id,
            r.role,
            r.authority_id,
            r.area_code,
            r.name,
            r.password_hash,
            r.active,
            r.password_set_at,
        )
        for r in rows
    ]


def has_had_supervisor(conn: Connection, authority_id: str) -> bool:
    """Whether the authority has, or ever had, a supervisor (`services/registry_proposals.py`):
    a member who is one, active or not, or a registration since migration 0024 that made one
    of it or found one of it (``before``: the member since demoted or moved, registered as a
    supervisor before 0024 and so with no row that made them one)."""
    r = t.staff_registrations
    member = select(t.staff.c.id).where(
        t.staff.c.authority_id == authority_id, t.staff.c.role == "supervisor"
    )
    registered = select(r.c.log_index).where(
        r.c.authority_id == authority_id, r.c.role == "supervisor"
    )
    found = select(r.c.log_index).where(
        r.c.before_authority_id == authority_id, r.c.before_role == "supervisor"
    )
    return any(
        conn.execute(query.limit(1)).first() is not None for query in (member, registered, found)
    )


def active_supervisors(conn: Connection) -> dict[str, set[str]]:
    """Each authority's active supervisors, by badge (a handful per authority): what a staff
    load compares its registrations with (`domain/staff_registry.py`)."""
    query = select(t.staff.c.authority_id, t.staff.c.id).where(
        t.staff.c.role == "supervisor", t.staff.c.active.is_(True)
    )
    found: dict[str, set[str]] = {}
    for authority_id, staff_id in conn.execute(query):
        if authority_id is not None:
            found.setdefault(authority_id, set()).add(staff_id)
    return found


def jurisdiction(conn: Connection, authority_id: str) -> frozenset[str]:
    query = select(t.authority_areas.c.area_code).where(
        t.authority_areas.c.authority_id == authority_id
    )
    return frozenset(conn.scalars(query))


# Guardianships are recorded and ended in store/guardianships.py, each with its log entry;
# ``guardianships`` holds those in force only, so these two grant nothing once one ends.
def dependants(conn: Connection, guardian: str) -> list[str]:
    query = select(t.guardianships.c.person_key).where(t.guardianships.c.guardian_key == guardian)
    return sorted(conn.scalars(query))


def is_guardian(conn: Connection, guardian: str, dependant: str) -> bool:
    query = select(t.guardianships.c.person_key).where(
        t.guardianships.c.guardian_key == guardian, t.guardianships.c.person_key == dependant
    )
    return conn.execute(query).first() is not None


def revoke_token(conn: Connection, jti: str, at: datetime) -> bool:
    """Revoke the token from ``at``; whether this call did (not already revoked). Two callers
    racing for one token (a sign-in link opened twice at once) cannot both see True: the
    primary key lets one insert win."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        t.token_revocations
    )
    statement = (
        insert.values(jti=jti, revoked_at=at)
        .on_conflict_do_nothing(index_elements=["jti"])
        .returning(t.token_revocations.c.jti)  # a row only if inserted (rowcount is -1 on PG)
    )
    return conn.execute(statement).first() is not None


# Run by every authenticated request: built once, a primary-key lookup.
_REVOKED = select(t.token_revocations.c.jti).where(t.token_revocations.c.jti == bindparam("jti"))


def token_revoked(conn: Connection, jti: str) -> bool:
    return conn.execute(_REVOKED, {"jti": jti}).first() is not None


def tokens_revoked(conn: Connection, jtis: Sequence[str]) -> set[str]:
    """Which of these token ids are revoked, in one statement (or one per 500 on SQLite)."""
    if len(jtis) == 1:
        return {jtis[0]} if token_revoked(conn, jtis[0]) else set()
    found: set[str] = set()
    for condition in one_of(conn, t.token_revocations.c.jti, sorted(set(jtis))):
        found.update(conn.scalars(select(t.token_revocations.c.jti).where(condition)))
    return found
