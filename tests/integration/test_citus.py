"""The schema stays Citus-compatible (``docs/citus.md``): every table is placed (distributed,
reference, or on the coordinator), every person-scoped table carries the person key, and the
re-keying DDL of migration 0013 runs on the migrated PostgreSQL schema, after which every key
of a distributed table holds its distribution column. No Citus server is needed: only the
statements that call Citus's functions are left out (migration 0013 runs them all, and only
where the extension is installed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from healthcode.store import citus
from healthcode.store.database import Database
from healthcode.store.migrate import alembic_config, upgrade
from healthcode.store.partitions import evidence_ids
from healthcode.store.tables import metadata
from tests.conftest import POSTGRES_URL
from tests.pg_schema import fresh_schema

PLACED = citus.BY_PERSON + tuple(citus.BY_OTHER) + citus.REFERENCE + citus.COORDINATOR


def test_every_table_is_placed_once_and_person_scoped_ones_by_person() -> None:
    names = {t.name for t in metadata.sorted_tables} | {evidence_ids.name}
    assert sorted(PLACED) == sorted(set(PLACED)) and set(PLACED) == names
    for name in citus.BY_PERSON:
        column = metadata.tables[name].c[citus.PERSON]
        assert not column.nullable or column.primary_key, name
    # A table with a person key on every row is distributed by it; the reference tables
    # that have the column hold rows without a person (NULL) as well.
    for table in metadata.sorted_tables:
        if citus.PERSON in table.c and table.name not in citus.BY_PERSON:
            assert table.name in citus.REFERENCE and table.c[citus.PERSON].nullable, table.name


def test_the_citus_statements_are_one_call_per_table() -> None:
    calls = [s.sql for s in citus.statements(metadata) if s.citus_only]
    distributed = [re.search(r"create_distributed_table\('(\w+)'", c) for c in calls]
    reference = [re.search(r"create_reference_table\('(\w+)'\)", c) for c in calls]
    assert sorted(m[1] for m in distributed if m) == sorted(citus.BY_PERSON + tuple(citus.BY_OTHER))
    assert sorted(m[1] for m in reference if m) == sorted(citus.REFERENCE)
    # References first (distributed tables point at them), then the colocation anchor.
    first = next(n for n, c in enumerate(calls) if "create_distributed_table" in c)
    assert all("create_reference_table" in c for c in calls[:first])
    assert f"create_distributed_table('{citus.ANCHOR}', '{citus.PERSON}')" in calls[first]


def test_the_rekeying_runs_on_postgresql_and_every_key_holds_the_distribution_column(
    postgres_ok: bool,
) -> None:
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with fresh_schema(POSTGRES_URL, "c") as schema:
        db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            upgrade(db)  # 0013 itself does nothing here: no citus extension
            with db.engine.begin() as conn:
                for statement in citus.statements(metadata):
                    if not statement.citus_only:
                        conn.execute(text(statement.sql))
            with db.engine.connect() as conn:
                found = inspect(conn)
                by = {name: citus.PERSON for name in citus.BY_PERSON} | citus.BY_OTHER
                for name, column in by.items():
                    keys = [found.get_pk_constraint(name)["constrained_columns"]]
                    keys += [u["column_names"] for u in found.get_unique_constraints(name)]
                    assert all(column in key for key in keys), (name, keys)
                    for fk in found.get_foreign_keys(name):
                        if fk["referred_table"] in by:
                            assert column in fk["constrained_columns"], (name, fk)
                for name in citus.REFERENCE:
                    for fk in found.get_foreign_keys(name):
                        assert fk["referred_table"] not in by, (name, fk)
        finally:
            db.dispose()


def test_a_table_added_after_0013_is_placed_on_the_distributed_schema(postgres_ok: bool) -> None:
    """0017 adds `order_earlier_ends` to a schema 0013 re-keyed: keyed by person, and its key
    to `orders` by the person key (which is what a re-keyed `orders` can be referred by)."""
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with fresh_schema(POSTGRES_URL, "c") as schema:
        db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            command.upgrade(alembic_config(db), "0016")
            with db.engine.begin() as conn:
                existing = inspect(conn).get_table_names()
                assert "order_earlier_ends" not in existing
                for statement in citus.statements(metadata, only=existing):
                    if not statement.citus_only:  # what 0013 runs where Citus is
                        conn.execute(text(statement.sql))
            upgrade(db)
            with db.engine.connect() as conn:
                found = inspect(conn)
                key = found.get_pk_constraint("order_earlier_ends")["constrained_columns"]
                [fk] = found.get_foreign_keys("order_earlier_ends")
        finally:
            db.dispose()
    assert key == [citus.PERSON, "log_index"]
    assert (fk["constrained_columns"], fk["referred_columns"]) == (
        [citus.PERSON, "order_id"],
        [citus.PERSON, "id"],
    )
    # Citus's calls for it: distributed with the orders, before the key to them is made.
    later = [s.sql for s in citus.placed_later(metadata, "order_earlier_ends")]
    placed = next(n for n, sql in enumerate(later) if "create_distributed_table" in sql)
    made = next(n for n, sql in enumerate(later) if "FOREIGN KEY" in sql)
    assert placed < made and "colocate_with => 'persons'" in later[placed]


def test_docs_citus_md_shows_the_ddl_the_code_generates() -> None:
    text_ = (Path(__file__).resolve().parents[2] / "docs" / "citus.md").read_text()
    block = text_.split("```sql\n", 1)[1].split("```", 1)[0]
    assert block.splitlines() == [s.sql + ";" for s in citus.statements(metadata)]
