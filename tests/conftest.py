"""Shared fixtures: the store on SQLite and on PostgreSQL, services with a fake clock, and a
small registered town with signing sources."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from healthcode.bootstrap import Services, build
from healthcode.services.clock import FixedClock
from healthcode.settings import Settings
from healthcode.store.database import Database
from healthcode.web.app import create_app
from tests.pg_schema import schema_database
from tests.town import Town

POSTGRES_URL = os.environ.get(
    "HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_ok() -> bool:
    available = _postgres_available()
    if not available and os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required when CI=true and is not reachable at {POSTGRES_URL}")
    return available


@pytest.fixture(params=["sqlite", "postgres"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_ok: bool
) -> Iterator[Database]:
    """An empty schema on each backend; PostgreSQL gets a schema of its own per test."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'test.db'}")
        db.create_all()
        yield db
        db.dispose()
        return
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with schema_database(POSTGRES_URL) as db:
        yield db


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def make_services(database: Database, clock: FixedClock, data_dir: Path) -> Services:
    settings = Settings(
        database_url=database.url,
        data_dir=data_dir,
        scheduler_interval_seconds=3600,
        dcc_schemas=SHARED / "testdata" / "dcc-schema",
    )
    return build(settings, clock=clock, db=database, migrate=False)


@pytest.fixture
def services(database: Database, clock: FixedClock, tmp_path: Path) -> Services:
    return make_services(database, clock, tmp_path / "data")


@pytest.fixture
def town(services: Services, clock: FixedClock) -> Town:
    return Town.register(services, clock)


@pytest.fixture
def client(town: Town) -> TestClient:
    """The app over the town's services, its staff registered; no scheduler (the tests drive
    time with the fake clock)."""
    town.register_staff()
    return TestClient(create_app(town.services, run_scheduler=False))
