"""Rows of current statuses and of the status-change history (which is only ever appended)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from healthcode.domain.rulebook import Colour
from healthcode.store import tables as t
from healthcode.store.copy import insert_plain
from healthcode.store.instants import to_micros
from healthcode.store.keysets import text_keys, text_keys_in


@dataclass(frozen=True)
class StoredStatus:
    person_key: str
    colour: Colour
    rule_id: str
    inputs: tuple[str, ...]
    since: datetime
    valid_until: datetime | None
    rulebook_version: int


@dataclass(frozen=True)
class StatusChange:
    person_key: str
    effective_at: datetime
    recorded_at: datetime
    colour: Colour
    rule_id: str
    previous_colour: Colour
    previous_rule_id: str
    inputs: tuple[str, ...]
    valid_until: datetime | None
    rulebook_version: int
    cause: str
    log_index: int = -1  # set when its log entry is appended, before the row is written


def _stored(row: Any) -> StoredStatus:
    return StoredStatus(
        person_key=row.person_key,
        colour=Colour(row.colour),
        rule_id=row.rule_id,
        inputs=tuple(json.loads(row.inputs)),
        since=row.since,
        valid_until=row.valid_until,
        rulebook_version=row.rulebook_version,
    )


_CURRENT = {
    dialect: select(t.person_status).where(
        text_keys_in(dialect, t.person_status.c.person_key, "keys")
    )
    for dialect in ("sqlite", "postgresql")
}


def current(conn: Connection, person_keys: Iterable[str]) -> dict[str, StoredStatus]:
    keys = sorted(set(person_keys))
    if not keys:
        return {}
    dialect = conn.dialect.name
    rows = conn.execute(_CURRENT[dialect], {"keys": text_keys(dialect, keys)})
    return {row.person_key: _stored(row) for row in rows}


def due(conn: Connection, at: datetime, limit: int) -> list[str]:
    """People whose status changes by itself at or before ``at``."""
    query = (
        select(t.person_status.c.person_key)
        .where(t.person_status.c.valid_until <= at)
        .order_by(t.person_status.c.valid_until)
        .limit(limit)
    )
    return list(conn.scalars(query))


def save_current(conn: Connection, statuses: list[dict[str, Any]], *, new: bool) -> None:
    if not statuses:
        return
    if new:
        insert_plain(
            conn,
            t.person_status.name,
            _STATUS_COLUMNS,
            [
                tuple(
                    _plain(row[name]) if name in _INSTANTS else row[name]
                    for name in _STATUS_COLUMNS
                )
                for row in statuses
            ],
        )
        return

    columns = (
        "colour",
        "rule_id",
        "inputs",
        "since",
        "valid_until",
        "rulebook_version",
        "computed_at",
    )
    statement = (
        t.person_status.update()
        .where(t.person_status.c.person_key == bindparam("key"))
        .values({name: bindparam(name) for name in columns})
    )
    conn.execute(statement, [{**row, "key": row["person_key"]} for row in statuses])


def append_changes(conn: Connection, changes: list[StatusChange]) -> None:
    insert_plain(
        conn,
        t.status_changes.name,
        _CHANGE_COLUMNS,
        [
            (
                c.person_key, to_micros(c.effective_at), to_micros(c.recorded_at), str(c.colour),
                c.rule_id, str(c.previous_colour), c.previous_rule_id, json.dumps(list(c.inputs)),
                _plain(c.valid_until), c.rulebook_version, c.cause, c.log_index,
            )
            for c in changes
        ],
    )  # fmt: skip


# Statuses and changes are written as plain values (`store.copy.insert_plain`): a batch of
# evidence writes them inside its transaction, on PostgreSQL by COPY.
_STATUS_COLUMNS = (
    "person_key", "colour", "rule_id", "inputs", "since", "valid_until", "rulebook_version",
    "computed_at",
)  # fmt: skip
_INSTANTS = frozenset({"since", "valid_until", "computed_at"})
_CHANGE_COLUMNS = (
    "person_key", "effective_at", "recorded_at", "colour", "rule_id", "previous_colour",
    "previous_rule_id", "inputs", "valid_until", "rulebook_version", "cause", "log_index",
)  # fmt: skip


def _plain(at: datetime | None) -> int | None:
    return None if at is None else to_micros(at)


_HISTORY = (
    select(t.status_changes)
    .where(t.status_changes.c.person_key == bindparam("person_key"))
    .order_by(t.status_changes.c.effective_at, t.status_changes.c.id)
)


def history(conn: Connection, person_key: str) -> list[StatusChange]:
    return [
        StatusChange(
            person_key=row.person_key,
            effective_at=row.effective_at,
            recorded_at=row.recorded_at,
            colour=Colour(row.colour),
            rule_id=row.rule_id,
            previous_colour=Colour(row.previous_colour),
            previous_rule_id=row.previous_rule_id,
            inputs=tuple(json.loads(row.inputs)),
            valid_until=row.valid_until,
            rulebook_version=row.rulebook_version,
            cause=row.cause,
            log_index=row.log_index,
        )
        for row in conn.execute(_HISTORY, {"person_key": person_key})
    ]
