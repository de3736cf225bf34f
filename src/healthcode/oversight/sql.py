"""SQL pieces the detectors share: days of stored instants, cities of area codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, func, type_coerce

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
