"""Failed staff sign-ins, for the throttle (services/sign_in_throttle.py): the table and its
queries.

A row is one failed attempt counted against one subject: a keyed hash of the badge id tried,
or of the client's address, never the text itself (a badge id typed wrong may be a password).
Rows older than the throttle's window count for nothing and are deleted as new ones come in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, Connection, Index, Integer, String, Table, delete, insert, select

from healthcode.store.instants import Instant
from healthcode.store.schema import metadata

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(64), nullable=False),  # hex HMAC-SHA-256 of "badge:..", "address:.."
    Column("at", Instant, nullable=False),
    Index("ix_sign_in_failures_subject_at", "subject", "at"),
)


def since(conn: Connection, subject: str, start: datetime) -> list[datetime]:
    """The subject's failures at or after ``start``, the oldest first."""
    c = sign_in_failures.c
    query = select(c.at).where(c.subject == subject, c.at >= start).order_by(c.at)
    return [row.at for row in conn.execute(query)]


def record(
    conn: Connection, subjects: Sequence[str], at: datetime, *, forget_before: datetime
) -> None:
    c = sign_in_failures.c
    conn.execute(delete(sign_in_failures).where(c.at < forget_before))
    conn.execute(insert(sign_in_failures), [{"subject": s, "at": at} for s in subjects])


def forget(conn: Connection, subject: str) -> None:
    conn.execute(delete(sign_in_failures).where(sign_in_failures.c.subject == subject))
