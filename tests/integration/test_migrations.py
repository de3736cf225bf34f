"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from healthcode.store.database import Database
from healthcode.store.migrate import include_name, upgrade
from healthcode.store.tables import metadata


def test_migrations_match_the_declared_schema(empty: Database) -> None:
    upgrade(empty)
    upgrade(empty)  # a second run is a no-op
    with empty.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= tables
