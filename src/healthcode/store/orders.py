"""Rows of orders, the evidence each cites, and the access log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, not_, or_, select

from healthcode.domain.orders import REFUSAL_REASONS, Order, OrderKind
from healthcode.store import tables as t
from healthcode.store.keysets import text_keys, text_keys_in

# What an order is at an instant (`StoredOrder.state`, `in_state`): awaiting its co-signature,
# in effect (it counts from `valid_from` to its end), or over.
ORDER_STATES = ("pending", "active", "ended")


@dataclass(frozen=True)
class EarlierEnd:
    """An end an order had before the one in effect (`t.order_earlier_ends`)."""

    ended_at: datetime
    recorded_at: datetime
    reason: str
    ended_by: str
    log_index: int


@dataclass(frozen=True)
class StoredOrder:
    id: str
    request_id: str
    authority_id: str
    official_id: str
    kind: str
    legal_basis: str
    person_key: str
    valid_from: datetime
    valid_until: datetime
    status: str  # the last act recorded (issued pending, activated, ended): not `state`
    recorded_at: datetime
    activated_at: datetime | None
    cosigned_by: str | None
    extends: str | None
    ended_at: datetime | None
    ended_recorded_at: datetime | None
    end_reason: str | None
    ended_by: str | None
    log_index: int
    cosign_log_index: int | None
    end_log_index: int | None
    evidence: tuple[str, ...]  # "source/record" references
    earlier_ends: tuple[EarlierEnd, ...] = ()  # the ends the one in effect replaced, in order

    @property
    def ends(self) -> datetime:
        """When it stops counting: its expiry, or the end recorded for it if that is earlier
        (an order lifted now, or shortened to a time that may still lie ahead)."""
        return self.valid_until if self.ended_at is None else min(self.valid_until, self.ended_at)

    def state(self, now: datetime) -> str:
        """One of `ORDER_STATES` at ``now``: ``pending`` until co-signed (``ended`` if withdrawn
        or expired first), then ``active`` until `ends`, then ``ended``. A recorded end still
        ahead leaves the order active (and appealable) until then. `in_state` is the same in
        SQL."""
        if self.activated_at is None:
            return "pending" if self.ended_at is None and self.valid_until > now else "ended"
        return "active" if self.ends > now else "ended"

    @property
    def refused(self) -> bool:
        """Withdrawn, never in force, because a supervisor refused its request: its state is
        ``ended``, and its end reason says why (`REFUSAL_REASONS`)."""
        return self.activated_at is None and self.end_reason in REFUSAL_REASONS

    def as_input(self) -> Order | None:
        """The order as a rule reads it; None while it is pending (it does not count)."""
        if self.activated_at is None:
            return None
        return Order(
            id=self.id,
            kind=OrderKind(self.kind),
            person=self.person_key,
            valid_from=max(self.valid_from, self.activated_at),
            valid_until=self.valid_until,
            recorded_at=self.activated_at,
            ended_at=self.ended_at,
            ended_recorded_at=self.ended_recorded_at,
            earlier_ends=tuple((end.ended_at, end.recorded_at) for end in self.earlier_ends),
        )


def select_orders(conn: Connection, query: Any) -> list[StoredOrder]:
    return _with_evidence(conn, conn.execute(query).all())


def _with_evidence(conn: Connection, rows: Sequence[Any]) -> list[StoredOrder]:
    """The orders of ``rows`` with the evidence each cites and the ends it had before."""
    ids = [row.id for row in rows]
    cited: dict[str, list[str]] = defaultdict(list)
    earlier: dict[str, list[EarlierEnd]] = defaultdict(list)
    ends = t.order_earlier_ends
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        q = select(t.order_evidence).where(t.order_evidence.c.order_id.in_(chunk))
        for ev in conn.execute(q):
            cited[ev.order_id].append(f"{ev.source_id}/{ev.record_id}")
        q = select(ends).where(ends.c.order_id.in_(chunk)).order_by(ends.c.log_index)
        for end in conn.execute(q):
            earlier[end.order_id].append(
                EarlierEnd(end.ended_at, end.recorded_at, end.reason, end.ended_by, end.log_index)
            )
    fields = [c.name for c in t.orders.columns]
    return [
        StoredOrder(
            **{f: getattr(row, f) for f in fields},
            evidence=tuple(sorted(cited[row.id])),
            earlier_ends=tuple(earlier[row.id]),
        )
        for row in rows
    ]


def insert(conn: Connection, rows: list[dict[str, Any]], cited: list[dict[str, Any]]) -> None:
    conn.execute(t.orders.insert(), rows)
    if cited:
        conn.execute(t.order_evidence.insert(), cited)


_FOR_PEOPLE = {
    dialect: select(t.orders).where(text_keys_in(dialect, t.orders.c.person_key, "keys"))
    for dialect in ("sqlite", "postgresql")
}


def for_people(conn: Connection, person_keys: Iterable[str]) -> dict[str, list[StoredOrder]]:
    """These people's orders (one statement, built once, for any number of people)."""
    keys = sorted(set(person_keys))
    found: dict[str, list[StoredOrder]] = defaultdict(list)
    if not keys:
        return found
    dialect = conn.dialect.name
    rows = conn.execute(_FOR_PEOPLE[dialect], {"keys": text_keys(dialect, keys)}).all()
    for order in _with_evidence(conn, rows) if rows else []:
        found[order.person_key].append(order)
    return found


_OF_PERSON = select(t.orders).where(t.orders.c.person_key == bindparam("person_key"))


def of_person(conn: Connection, person_key: str) -> list[StoredOrder]:
    """One person's orders (`for_people` of one key, by a statement built once)."""
    rows = conn.execute(_OF_PERSON, {"person_key": person_key}).all()
    return _with_evidence(conn, rows) if rows else []


def by_id(conn: Connection, order_id: str) -> StoredOrder | None:
    found = select_orders(conn, select(t.orders).where(t.orders.c.id == order_id))
    return found[0] if found else None


def by_request(conn: Connection, request_id: str) -> list[StoredOrder]:
    return select_orders(
        conn, select(t.orders).where(t.orders.c.request_id == request_id).order_by(t.orders.c.id)
    )


def in_state(state: str, now: datetime) -> ColumnElement[bool]:
    """Orders in ``state`` at ``now``, as `StoredOrder.state` says (every column it reads but
    the ends is NOT NULL, so no comparison is unknown)."""
    o = t.orders.c
    pending = and_(o.activated_at.is_(None), o.ended_at.is_(None), o.valid_until > now)
    active = and_(
        o.activated_at.is_not(None),
        o.valid_until > now,
        or_(o.ended_at.is_(None), o.ended_at > now),
    )
    return {"pending": pending, "active": active, "ended": not_(or_(pending, active))}[state]


def of_authority(
    conn: Connection, authority_id: str, now: datetime, state: str | None = None
) -> list[StoredOrder]:
    """The authority's orders, newest first; with ``state``, those in it at ``now``."""
    query = select(t.orders).where(t.orders.c.authority_id == authority_id)
    if state is not None:
        query = query.where(in_state(state, now))
    return select_orders(conn, query.order_by(t.orders.c.recorded_at.desc(), t.orders.c.id))


def people_touched(conn: Connection, authority_id: str, since: datetime) -> set[str]:
    """People named by this authority's orders recorded since ``since`` (pending ones too)."""
    query = select(t.orders.c.person_key).where(
        t.orders.c.authority_id == authority_id, t.orders.c.recorded_at >= since
    )
    return set(conn.scalars(query.distinct()))


def record_end(
    conn: Connection, order: StoredOrder, *, ended_at: datetime, recorded_at: datetime,
    reason: str, ended_by: str, log_index: int,
) -> None:  # fmt: skip
    """Record ``order``'s new end in effect on its row; the end it replaces, if any, becomes
    one of its earlier ends."""
    if order.end_log_index is not None:
        assert order.ended_at is not None and order.ended_recorded_at is not None
        conn.execute(t.order_earlier_ends.insert().values(
            log_index=order.end_log_index, order_id=order.id, person_key=order.person_key,
            ended_at=order.ended_at, recorded_at=order.ended_recorded_at,
            reason=order.end_reason, ended_by=order.ended_by,
        ))  # fmt: skip
    update(
        conn, order.id, status="ended", ended_at=ended_at, ended_recorded_at=recorded_at,
        end_reason=reason, ended_by=ended_by, end_log_index=log_index,
    )  # fmt: skip


def refuse_pending(
    conn: Connection, orders: Sequence[StoredOrder], *, reason: str, refused_by: str,
    at: datetime, log_index: int,
) -> None:  # fmt: skip
    """End pending ``orders`` at ``at``, all by one refusal (one entry, ``log_index``): a
    pending order has no end yet, so none becomes an earlier end."""
    assert all(order.end_log_index is None for order in orders)
    ids = [order.id for order in orders]
    for start in range(0, len(ids), 500):
        conn.execute(
            t.orders.update()
            .where(t.orders.c.id.in_(ids[start : start + 500]))
            .values(
                status="ended", ended_at=at, ended_recorded_at=at, end_reason=reason,
                ended_by=refused_by, end_log_index=log_index,
            )
        )  # fmt: skip


def update(conn: Connection, order_id: str, **values: Any) -> None:
    conn.execute(t.orders.update().where(t.orders.c.id == order_id).values(**values))


def count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(t.orders)) or 0)


def record_access(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.access_log.insert().values(**row))


def accesses(conn: Connection, person_key: str) -> list[Any]:
    query = (
        select(t.access_log)
        .where(t.access_log.c.person_key == person_key)
        .order_by(t.access_log.c.at.desc())
    )
    return list(conn.execute(query))
