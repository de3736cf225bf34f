"""SQL pieces the detectors share: days of stored instants, cities of area codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, FromClause, func, literal_column, type_coerce

from healthcode.store.instants import EPOCH, to_micros

DAY_MICROS = 86_400 * 1_000_000
HOUR_MICROS = 3_600 * 1_000_000


def micros(column: ColumnElement[Any]) -> ColumnElement[int]:
    """An instant column as its stored integer (microseconds), for arithmetic in SQL."""
    return type_coerce(column, BigInteger)


def day_of(column: ColumnElement[Any]) -> ColumnElement[int]:
    """The UTC day (days since the epoch) of an instant column; integers divide exactly."""
    return micros(column) // DAY_MICROS


def day_number(at: datetime) -> int:
    return to_micros(at) // DAY_MICROS


def day_start(day: int) -> datetime:
    return EPOCH + timedelta(days=day)


def day_label(day: int) -> str:
    return day_start(day).astimezone(UTC).date().isoformat()


def city_of(column: ColumnElement[Any]) -> ColumnElement[str]:
    """The city part (first four digits) of a six-digit area code."""
    return func.substr(column, 1, 4)


def not_by_index(column: ColumnElement[str]) -> ColumnElement[str]:
    """A text column's value, hidden from the planner's choice of index.

    A correlated subquery that should reach its rows by person (a few rows) can otherwise be
    planned as a scan of every row of one kind, once per outer row: SQLite without
    ``ANALYZE`` statistics sees two equally good equality lookups and may take the wrong one.
    ``column || ''`` is the same value but matches no index, on SQLite and PostgreSQL alike.
    """
    return column.concat("")


def unverified_visit(evidence: FromClause) -> ColumnElement[bool]:
    """Unverified venue visits, in the words of the partial index ``ix_evidence_unverified``.

    The planner takes a partial index only when the query states its condition with the same
    constant (a bound parameter is unknown when SQLite plans), so the value is written inline.
    Only venue visits carry a presence (``domain/evidence.py``), so the kind needs no check.
    """
    return evidence.c.presence == literal_column("'unverified'")


def positive_test(evidence: FromClause) -> ColumnElement[bool]:
    """Positive test results, in the words of the partial index ``ix_evidence_positive`` (see
    ``unverified_visit``). Only test results carry a result, so the kind needs no check."""
    return evidence.c.result == literal_column("'positive'")
