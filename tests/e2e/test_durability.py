"""The server refuses settings that could lose an acknowledged write, and a kill -9 at a named
point of the write path loses nothing (one trial of `make crash`, which runs many: evidence
batches, and orders and appeals with idempotency keys)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from crash.trial import Trial
from sqlalchemy import event, text

from healthcode.store.database import Database
from healthcode.store.durability import unsafe_settings
from tests.conftest import POSTGRES_URL
from tests.pg_schema import fresh_schema
from tests.served import BIN


def test_sqlite_without_full_synchronous_is_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'd.db'}")
    assert unsafe_settings(db) == []

    @event.listens_for(db._reader, "connect")
    def _weaken(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    db._reader.dispose()
    assert unsafe_settings(db) == ["SQLite synchronous is 1, not FULL (2) or EXTRA (3)"]
    db.dispose()


def test_serve_refuses_postgresql_without_synchronous_commit(
    tmp_path: Path, postgres_ok: bool
) -> None:
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with fresh_schema(POSTGRES_URL, "d") as schema:
        options = quote(f"-csearch_path={schema} -csynchronous_commit=off")
        env = {"DATABASE_URL": f"{POSTGRES_URL}?options={options}",
               "HEALTHCODE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}  # fmt: skip
        served = subprocess.run(
            [BIN, "serve"], env=env, capture_output=True, text=True, timeout=120
        )
        assert served.returncode == 2
        assert "PostgreSQL synchronous_commit is off" in served.stderr


def test_a_kill_after_commit_before_the_answer_loses_nothing(tmp_path: Path) -> None:
    trial = Trial("sqlite", None, tmp_path, random.Random(5), "intake.after_commit:3")
    assert trial.run(), trial.problems
    # The third commit's answer never came (the first two may still be on the wire).
    assert int(trial.summary.split("/")[0]) <= 2


def test_the_checks_find_a_lost_acknowledged_batch_and_a_lost_appeal(tmp_path: Path) -> None:
    trial = Trial("sqlite", None, tmp_path, random.Random(5), None)
    assert trial.run(), trial.problems
    writes = trial.writes
    assert writes is not None
    [appeal, *_] = [c.appeal_answer["id"] for c in writes.chains if c.appeal_answer]
    with trial.connect() as conn:
        conn.execute(text("DELETE FROM evidence WHERE batch_id = 'crash-0'"))
        conn.execute(text("DELETE FROM evidence_batches WHERE batch_id = 'crash-0'"))
        conn.execute(text("DELETE FROM appeals WHERE id = :id"), {"id": appeal})
        conn.commit()
        writes.acked.add("crash-0")
        writes.check(conn)
    assert any("acknowledged batches lost" in p for p in writes.problems)
    assert any("0 appeals of its order" in p for p in writes.problems)
