"""An empty store on each backend, for the tests that run the Alembic migrations themselves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from healthcode.store.database import Database
from tests.conftest import POSTGRES_URL
from tests.pg_schema import fresh_schema


@pytest.fixture(params=["sqlite", "postgres"])
def empty(request: pytest.FixtureRequest, tmp_path, postgres_ok: bool) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
        yield db
        db.dispose()
        return
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with fresh_schema(POSTGRES_URL, "m") as schema:
        db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        yield db
        db.dispose()
