"""A PostgreSQL schema of its own, dropped afterwards: for tests and harnesses that share the
one test database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from healthcode.store.database import Database


@contextmanager
def fresh_schema(url: str, prefix: str = "t") -> Iterator[str]:
    """Create a uniquely named schema at `url`, yield its name, drop it with all it holds."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield schema
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def schema_database(url: str, prefix: str = "t") -> Iterator[Database]:
    """A `Database` on a fresh schema at `url` with every table created, disposed and dropped
    afterwards."""
    with fresh_schema(url, prefix) as schema:
        db = Database(url, connect_args={"options": f"-csearch_path={schema}"})
        try:
            db.create_all()
            yield db
        finally:
            db.dispose()
