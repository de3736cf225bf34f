"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from healthcode.store.database import Database
from healthcode.store.migrate import include_name, upgrade
from healthcode.store.tables import metadata
from tests.conftest import POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def empty(request: pytest.FixtureRequest, tmp_path, postgres_ok: bool) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
        yield db
        db.dispose()
        return
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_migrations_match_the_declared_schema(empty: Database) -> None:
    upgrade(empty)
    upgrade(empty)  # a second run is a no-op
    with empty.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= tables
