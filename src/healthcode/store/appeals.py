"""Rows of appeals, the evidence their answers cite, and oversight's cases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from healthcode.domain.appeals import AppealFact, AppealStatus, ItemKind
from healthcode.store import tables as t


@dataclass(frozen=True)
class StoredAppeal:
    id: str
    person_key: str
    filed_by: str
    target: str
    order_id: str | None
    source_id: str | None
    record_id: str | None
    colour: str | None
    rule_id: str | None
    ground: str
    text: str | None
    authority_id: str
    filed_at: datetime
    deadline: datetime
    log_index: int
    status: str
    answered_at: datetime | None
    answered_by: str | None
    ends_at: datetime | None
    replacement_order_id: str | None
    answer_log_index: int | None
    lapsed_at: datetime | None
    lapse_log_index: int | None
    cited: tuple[str, ...]  # "source/record" of the evidence the answer cites

    @property
    def item(self) -> ItemKind:
        return ItemKind.ORDER if self.order_id is not None else ItemKind.EVIDENCE

    @property
    def evidence_ref(self) -> str | None:
        return None if self.record_id is None else f"{self.source_id}/{self.record_id}"

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.OPEN


@dataclass(frozen=True)
class StoredCase:
    """Oversight's case: an escalated appeal's (``appeal_id``, ``person_key``) or a detector
    finding's (``finding_id``); its lifecycle is in ``store/oversight.py``."""

    id: str
    appeal_id: str | None
    person_key: str | None
    status: str
    opened_at: datetime
    log_index: int
    finding_id: str | None = None
    updated_at: datetime | None = None  # of the latest step
    conclusion: str | None = None  # the note of the step that closed it


_FIELDS = [column.name for column in t.appeals.columns]


def _select(conn: Connection, query: Any) -> list[StoredAppeal]:
    rows = conn.execute(query).all()
    cited: dict[str, list[str]] = defaultdict(list)
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in conn.execute(
            select(t.appeal_citations).where(t.appeal_citations.c.appeal_id.in_(chunk))
        ):
            cited[row.appeal_id].append(f"{row.source_id}/{row.record_id}")
    return [
        StoredAppeal(**{f: getattr(row, f) for f in _FIELDS}, cited=tuple(sorted(cited[row.id])))
        for row in rows
    ]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.appeals.insert().values(**row))


def update(conn: Connection, appeal_id: str, **values: Any) -> None:
    conn.execute(t.appeals.update().where(t.appeals.c.id == appeal_id).values(**values))


def insert_citations(
    conn: Connection, appeal_id: str, person_key: str, refs: Iterable[str]
) -> None:
    rows = []
    for ref in sorted(set(refs)):
        source, _, record = ref.partition("/")
        rows.append(
            {"appeal_id": appeal_id, "source_id": source, "record_id": record,
             "person_key": person_key}
        )  # fmt: skip
    if rows:
        conn.execute(t.appeal_citations.insert(), rows)


def by_id(conn: Connection, appeal_id: str) -> StoredAppeal | None:
    found = _select(conn, select(t.appeals).where(t.appeals.c.id == appeal_id))
    return found[0] if found else None


def of_people(conn: Connection, person_keys: Iterable[str]) -> list[StoredAppeal]:
    keys = sorted(set(person_keys))
    query = (
        select(t.appeals)
        .where(t.appeals.c.person_key.in_(keys))
        .order_by(t.appeals.c.filed_at.desc(), t.appeals.c.id)
    )
    return _select(conn, query)


def live_on_item(
    conn: Connection, person_key: str, order_id: str | None, ref: tuple[str, str] | None
) -> list[StoredAppeal]:
    """Appeals of this person on this order or record that are open or were upheld."""
    query = select(t.appeals).where(
        t.appeals.c.person_key == person_key,
        t.appeals.c.status.in_([AppealStatus.OPEN.value, AppealStatus.UPHELD.value]),
    )
    if order_id is not None:
        query = query.where(t.appeals.c.order_id == order_id)
    else:
        assert ref is not None
        query = query.where(t.appeals.c.source_id == ref[0], t.appeals.c.record_id == ref[1])
    return _select(conn, query)


def queue(conn: Connection, authority_id: str) -> list[StoredAppeal]:
    """The authority's open appeals, the nearest deadline first."""
    query = (
        select(t.appeals)
        .where(t.appeals.c.authority_id == authority_id, t.appeals.c.status == "open")
        .order_by(t.appeals.c.deadline, t.appeals.c.id)
    )
    return _select(conn, query)


def due(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Open appeals whose deadline has passed, the oldest deadline first."""
    query = (
        select(t.appeals.c.id)
        .where(t.appeals.c.status == "open", t.appeals.c.deadline <= now)
        .order_by(t.appeals.c.deadline, t.appeals.c.id)
        .limit(limit)
    )
    return list(conn.scalars(query))


def every(conn: Connection) -> list[StoredAppeal]:
    return _select(conn, select(t.appeals).order_by(t.appeals.c.id))


def facts(conn: Connection) -> list[AppealFact]:
    escalated = set(
        conn.scalars(
            select(t.oversight_cases.c.appeal_id).where(t.oversight_cases.c.appeal_id.is_not(None))
        )
    )
    query = select(
        t.appeals.c.id, t.appeals.c.authority_id, t.appeals.c.status, t.appeals.c.filed_at,
        t.appeals.c.answered_at,
    )  # fmt: skip
    return [
        AppealFact(
            authority_id=row.authority_id,
            status=AppealStatus(row.status),
            filed_at=row.filed_at,
            answered_at=row.answered_at,
            escalated=row.id in escalated,
        )
        for row in conn.execute(query)
    ]


def insert_case(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.oversight_cases.insert().values(**row))


def case_from_row(row: Any) -> StoredCase:
    return StoredCase(
        row.id, row.appeal_id, row.person_key, row.status, row.opened_at, row.log_index,
        row.finding_id, row.updated_at, row.conclusion,
    )  # fmt: skip


def case_of(conn: Connection, appeal_id: str) -> StoredCase | None:
    row = conn.execute(
        select(t.oversight_cases).where(t.oversight_cases.c.appeal_id == appeal_id)
    ).first()
    return None if row is None else case_from_row(row)


def cases(conn: Connection) -> list[StoredCase]:
    """The cases of escalated appeals (a finding's cases: ``store.oversight.cases``)."""
    query = (
        select(t.oversight_cases)
        .where(t.oversight_cases.c.appeal_id.is_not(None))
        .order_by(t.oversight_cases.c.opened_at, t.oversight_cases.c.id)
    )
    return [case_from_row(row) for row in conn.execute(query)]


def person_set_asides(conn: Connection) -> list[Any]:
    """Set-asides of one record for one person (appeal outcomes), for the self-check."""
    return list(conn.execute(select(t.set_asides).where(t.set_asides.c.person_key.is_not(None))))
