"""The reference stamp: a value that changes whenever a small, rarely written table every write
reads changes (sources, areas, rulebooks, designations, set-asides), so a process may keep a
copy of those tables and know, by one small read, whether it is still what is stored.

The store's own triggers set it, in the transaction that writes one of those tables, whoever
writes (healthcode, another process, an operator's SQL): on SQLite a trigger per table and
statement kind, run for each row; on PostgreSQL one per table, run once per statement
(``TRUNCATE`` too). The new value is random, not a count: a transaction that writes and rolls
back leaves the stamp as it was, and a copy read inside it under its own new stamp is never
matched again. `install` creates the triggers and the stamp's one row; `Database.create_all`
and migration 0015 call it.

Not on Citus: there the five tables are reference tables, and Citus refuses triggers on them
unless ``citus.enable_unsafe_triggers`` is set, which has not been tried here. `install` makes
neither the triggers nor the row, so the stamp reads ``None`` and every batch reads the tables
(docs/citus.md).
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, String, Table, select, text

from healthcode.store.schema import metadata

TABLES = ("sources", "areas", "rulebooks", "designations", "set_asides")

reference_stamp = Table(
    "reference_stamp",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # the one row: 1
    Column("stamp", String(32), nullable=False),
)

_RANDOM = {
    "sqlite": "lower(hex(randomblob(16)))",
    "postgresql": "replace(gen_random_uuid()::text, '-', '')",
}
_FUNCTION = "reference_stamp_renew"
_CITUS = "SELECT 1 FROM pg_extension WHERE extname = 'citus'"
_READ = select(reference_stamp.c.stamp).where(reference_stamp.c.id == 1)


def read(conn: Connection) -> str | None:
    """The stamp as this transaction sees it; ``None`` if the store has none (then nothing
    may be cached)."""
    return conn.scalar(_READ)


def install(conn: Connection) -> None:
    """The stamp's row and the triggers that renew it (again: nothing changes)."""
    dialect = conn.dialect.name
    if dialect == "postgresql" and conn.scalar(text(_CITUS)) is not None:
        return
    random = _RANDOM[dialect]
    conn.execute(
        text(
            f"INSERT INTO {reference_stamp.name} (id, stamp) SELECT 1, {random} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {reference_stamp.name})"
        )
    )
    renew = f"UPDATE {reference_stamp.name} SET stamp = {random}"
    if dialect == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER IF NOT EXISTS {_FUNCTION}_{table}_{event.lower()} "
                        f"AFTER {event} ON {table} BEGIN {renew}; END"
                    )
                )
        return
    conn.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {renew}; RETURN NULL; END $$"
        )
    )
    for table in TABLES:
        conn.execute(
            text(
                f"CREATE OR REPLACE TRIGGER {_FUNCTION}_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()"
            )
        )


def uninstall(conn: Connection) -> None:
    """Drop the triggers and their function (migration 0015's downgrade; the table is its)."""
    for table in TABLES:
        if conn.dialect.name == "sqlite":
            for event in ("insert", "update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {_FUNCTION}_{table}_{event}"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {_FUNCTION}_{table} ON {table}"))
    if conn.dialect.name != "sqlite":
        conn.execute(text(f"DROP FUNCTION IF EXISTS {_FUNCTION}()"))
