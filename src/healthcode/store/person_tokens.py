"""Person tokens the operator issued and the acts made with them: the tables and their queries.

One row per token (bearer or sign-in link), written with its ``person_token`` entry
(services/person_tokens.py), found by the token's ``jti`` or by its person; one per act made
with one, written with its ``person_token_use`` entry (services/person_token_uses.py); the
self-check rebuilds each entry from its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Row,
    String,
    Table,
    func,
    select,
    union_all,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata
from healthcode.store.tables_appeals import appeals, oversight_cases
from healthcode.store.tables_orders import access_log, token_revocations

person_tokens = Table(
    "person_tokens",
    metadata,
    Column("token_id", ID, primary_key=True),  # the token's jti
    # No foreign key to `persons`, as `access_log` has none: on Citus every key between
    # distributed tables would have to hold the person key twice.
    Column("person_key", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # bearer | login_link
    Column("valid_from", Instant, nullable=False),
    Column("valid_until", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_person_tokens_person", "person_key", "valid_from"),
)

person_token_uses = Table(
    "person_token_uses",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),  # the use's entry
    # Whose token: the row is the person's (on Citus, beside their tokens). No foreign key to
    # `person_tokens`, for the same reason; the self-check finds a use whose token is gone.
    Column("person_key", String(32), nullable=False),
    Column("token_id", ID, nullable=False),
    Column("act_index", BigInteger, nullable=False, unique=True),  # the act's own entry
    Column("act", String(32), nullable=False),  # its kind
    Column("at", Instant, nullable=False),
    Index("ix_person_token_uses_token", "person_key", "token_id"),
)

_T = person_tokens
_U = person_token_uses
RECENT_USES = 20  # of a token's uses, those its person's page and API list


@dataclass(frozen=True)
class IssuedPersonToken:
    token_id: str  # the token's jti
    person_key: str
    kind: str
    valid_from: datetime
    valid_until: datetime
    log_index: int


@dataclass(frozen=True)
class PersonTokenUse:
    log_index: int  # the `person_token_use` entry's
    person_key: str  # the token's person
    token_id: str
    act_index: int  # the act's own entry
    act: str  # its kind
    at: datetime


@dataclass(frozen=True)
class PersonTokenView:
    """A token as its person's page lists it: with when it was spent (a link opened) or
    revoked (a session signed out), if it was, and the acts made with it, the newest first."""

    issued: IssuedPersonToken
    revoked_at: datetime | None
    uses: tuple[PersonTokenUse, ...] = ()  # the newest `RECENT_USES`
    use_count: int = 0  # all of them


def insert(conn: Connection, issued: IssuedPersonToken) -> None:
    conn.execute(_T.insert().values(asdict(issued)))


def find(conn: Connection, person_key: str, token_id: str) -> IssuedPersonToken | None:
    """The person's token of that id (by both: on Citus the person key finds its shard)."""
    row = conn.execute(
        select(_T).where(_T.c.person_key == person_key, _T.c.token_id == token_id)
    ).first()
    return None if row is None else _issued(row)


def insert_uses(conn: Connection, uses: Sequence[PersonTokenUse]) -> None:
    conn.execute(_U.insert(), [asdict(use) for use in uses])


def of_person(conn: Connection, person_key: str) -> list[PersonTokenView]:
    """Every token issued for the person, the newest first, each with how many acts were made
    with it and the newest `RECENT_USES` of them (a guardian's token makes a use at every
    view of a dependant, so never all of them)."""
    r = token_revocations
    query = (
        select(_T, r.c.revoked_at)
        .outerjoin(r, r.c.jti == _T.c.token_id)
        .where(_T.c.person_key == person_key)
        .order_by(_T.c.log_index.desc())
    )
    tokens = conn.execute(query).all()
    if not tokens:
        return []
    counted = select(_U.c.token_id, func.count()).where(_U.c.person_key == person_key)
    counts = {str(token): int(n) for token, n in conn.execute(counted.group_by(_U.c.token_id))}
    views = []
    for row in tokens:
        recent: list[PersonTokenUse] = []
        if counts.get(row.token_id):
            newest = select(_U).where(_U.c.person_key == person_key, _U.c.token_id == row.token_id)
            recent = _uses(conn, newest.order_by(_U.c.log_index.desc()).limit(RECENT_USES))
        views.append(
            PersonTokenView(
                _issued(row), row.revoked_at, tuple(recent), counts.get(row.token_id, 0)
            )
        )
    return views


def use_of_act(conn: Connection, person_key: str, act_index: int) -> PersonTokenUse | None:
    """The use of one of the person's tokens that made the act of entry ``act_index``, if
    one did."""
    query = select(_U).where(_U.c.person_key == person_key, _U.c.act_index == act_index)
    return next(iter(_uses(conn, query)), None)


def every(conn: Connection) -> list[IssuedPersonToken]:
    """Every token issued, in the order of their entries."""
    return [_issued(row) for row in conn.execute(select(_T).order_by(_T.c.log_index))]


def every_use(conn: Connection) -> list[PersonTokenUse]:
    """Every act made with one, in the order of their entries."""
    return _uses(conn, select(_U))


def _uses(conn: Connection, query: Any) -> list[PersonTokenUse]:
    return [
        PersonTokenUse(row.log_index, row.person_key, row.token_id, row.act_index, row.act, row.at)
        for row in conn.execute(query.order_by(_U.c.log_index))
    ]


def _issued(row: Row[Any]) -> IssuedPersonToken:
    return IssuedPersonToken(
        row.token_id, row.person_key, row.kind, row.valid_from, row.valid_until, row.log_index
    )


def act_makers(conn: Connection) -> dict[int, set[str]]:
    """For each act a use names, by its entry's index, the persons the records say could have
    made it: an appeal's filer; for its escalation the person or the filer (either may
    escalate); for a read, the guardian who read. A DCC's batch records no submitter, so it is
    absent, as is an act no record holds."""
    a, c, r = appeals, oversight_cases, access_log
    named = select(_U.c.act_index).scalar_subquery()
    rows = union_all(
        select(a.c.log_index.label("act"), a.c.filed_by.label("maker")).where(
            a.c.log_index.in_(named)
        ),
        select(c.c.log_index.label("act"), a.c.filed_by.label("maker"))
        .join(a, a.c.id == c.c.appeal_id)
        .where(c.c.log_index.in_(named)),
        select(c.c.log_index.label("act"), a.c.person_key.label("maker"))
        .join(a, a.c.id == c.c.appeal_id)
        .where(c.c.log_index.in_(named)),
        select(r.c.log_index.label("act"), r.c.accessor_id.label("maker")).where(
            r.c.log_index.in_(named), r.c.accessor_role == "guardian"
        ),
    )
    makers: dict[int, set[str]] = {}
    for act, maker in conn.execute(rows):
        makers.setdefault(int(act), set()).add(maker)
    return makers
