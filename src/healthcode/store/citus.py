"""The schema on Citus (PostgreSQL sharded by person, ``docs/citus.md``): which table is
distributed by which column, which is a reference table (copied to every node), which stays on
the coordinator, and the DDL that gets there.

Citus wants every primary key, unique key and foreign key between distributed tables to hold
the distribution column, so `statements` first re-keys the person-scoped tables' constraints
to lead with ``person_key`` (plain PostgreSQL DDL, which the tests run on PostgreSQL), then
calls Citus's own functions (`Statement.citus_only`). Migration 0013 runs them all, and only
where the ``citus`` extension is installed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    ForeignKeyConstraint,
    MetaData,
    PrimaryKeyConstraint,
    UniqueConstraint,
    text,
)

from healthcode.store.partitions import evidence_ids

PERSON = "person_key"
ANCHOR = "persons"  # the colocation group every person-scoped table joins

# Person-scoped: distributed by `person_key`, colocated with `persons`.
BY_PERSON = (
    "persons", "person_status", "status_changes", "households", "person_secrets",
    "guardianships", "guardianship_ends", "person_identities", "identity_cards", "notices",
    "access_log", "orders",
    "order_evidence", "order_earlier_ends", "appeals", "appeal_citations", "evidence",
    "person_tokens", "person_token_uses",
)  # fmt: skip
# Distributed by another column, each its own colocation group.
BY_OTHER = {
    "idempotency_keys": "actor_id",  # the caller: a person key, or a staff id
    evidence_ids.name: "source_id",  # a record key is unique per source, not per person
}
# Small, read everywhere: copied to every node.
REFERENCE = (
    "areas", "authorities", "authority_areas", "sources", "venues", "designations",
    "designation_earlier_ends", "rulebooks", "rulebook_proposals", "staff", "dcc_signers", "venue_keys", "trust_keys",
    "trust_lists", "token_revocations", "oversight_findings", "oversight_case_steps",
    "source_key_changes", "staff_tokens", "staff_token_uses", "jurisdiction_changes",
    "staff_registrations", "venue_tokens", "staff_password_changes", "staff_sign_ins",
    "venue_token_uses",
    # These hold a person key on some rows only (NULL: a revoked source, a detector's case),
    # and Citus refuses NULL in a distribution column; both are small.
    "set_asides", "oversight_cases",
)  # fmt: skip
# On the coordinator: the log and its sequencing (one writer), and rows that name nobody;
# `reference_stamp` stays empty there (store/reference_stamp.py: no cache on Citus).
COORDINATOR = (
    "log_bundles", "log_entries", "log_tiles", "log_checkpoints", "log_halts",
    "regional_checkpoints",
    "refusals", "evidence_batches", "scan_batches", "retention_purges",
    "retention_purge_batches", "reference_stamp", "sign_in_failures",
)  # fmt: skip


@dataclass(frozen=True)
class Statement:
    sql: str
    citus_only: bool  # a call of a Citus function: runs only where the extension is


def _columns(constraint: PrimaryKeyConstraint | UniqueConstraint) -> list[str]:
    return [column.name for column in constraint.columns]


def statements(metadata: MetaData, only: Collection[str] | None = None) -> list[Statement]:
    """The DDL that distributes the schema, in the order it must run; with ``only``, the
    schema's tables of those names alone (0013 places the tables that exist at its revision;
    a table a later revision adds is placed by `placed_later`)."""
    dropped, rekeyed, relinked, calls = _parts(metadata, only)
    return dropped + rekeyed + relinked + calls


def placed_later(metadata: MetaData, name: str) -> list[Statement]:
    """The DDL that places table ``name``, which a revision after 0013 creates on a schema
    0013 distributed, created without its foreign keys to distributed tables: its keys
    re-keyed, the table placed, and only then those foreign keys, by the person key (Citus
    refuses a key from a table not distributed to one that is)."""
    _, rekeyed, relinked, calls = _parts(metadata, {name})
    return rekeyed + calls + relinked


def place_beside(conn: Connection, metadata: MetaData, name: str, beside: str) -> None:
    """Run `placed_later` for table ``name``, which a revision after 0013 creates, where 0013
    placed the table ``beside`` (its reference or colocation partner): on PostgreSQL with the
    Citus extension and ``beside`` placed; nothing anywhere else."""
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    # `beside` is a table name of the code's, never input.
    query = f"SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '{beside}'::regclass"
    if conn.scalar(text(query)) is not None:
        for statement in placed_later(metadata, name):
            conn.execute(text(statement.sql))


def _parts(
    metadata: MetaData, only: Collection[str] | None
) -> tuple[list[Statement], list[Statement], list[Statement], list[Statement]]:
    """(foreign keys dropped, keys re-keyed, foreign keys re-made, Citus's calls)."""
    tables = {
        name: table for name, table in metadata.tables.items() if only is None or name in only
    }
    dropped: list[Statement] = []
    rekeyed: list[Statement] = []
    relinked: list[Statement] = []
    for name in BY_PERSON + REFERENCE:
        if name not in tables:
            continue
        for fk in sorted(tables[name].foreign_key_constraints, key=lambda c: str(c.name)):
            if fk.referred_table.name not in BY_PERSON:
                continue  # to a reference table: Citus allows it as it is
            # To a distributed table: it must hold the person key on both sides, or go.
            dropped.append(Statement(f"ALTER TABLE {name} DROP CONSTRAINT {fk.name}", False))
            if name in BY_PERSON:
                relinked.append(Statement(_person_fk(name, fk), False))
    for name in BY_PERSON:
        if only is not None and name not in only:
            continue
        if name == "evidence":  # its primary key is the partitioned layout's (partitions.py)
            rekeyed.append(_rekey("evidence", "pk_evidence", "PRIMARY KEY",
                                  ["source_id", "record_id", "received_at"]))  # fmt: skip
            continue
        table = tables[name]
        keys: list[tuple[str, PrimaryKeyConstraint | UniqueConstraint]] = [
            ("PRIMARY KEY", table.primary_key)
        ]
        keys += [
            ("UNIQUE", c)
            for c in sorted(table.constraints, key=lambda c: str(c.name))
            if isinstance(c, UniqueConstraint)
        ]
        for kind, constraint in keys:
            columns = _columns(constraint)
            if PERSON not in columns:
                rekeyed.append(_rekey(name, str(constraint.name), kind, columns))
    placed = set(tables) | ({evidence_ids.name} if only is None else set(only))
    calls = [
        Statement(f"SELECT create_reference_table('{name}')", True)
        for name in REFERENCE
        if name in placed
    ]
    calls += [
        Statement(
            f"SELECT create_distributed_table('{name}', '{PERSON}'"
            + ("" if name == ANCHOR else f", colocate_with => '{ANCHOR}'")
            + ")",
            True,
        )
        for name in BY_PERSON
        if name in placed
    ]
    calls += [
        Statement(
            f"SELECT create_distributed_table('{name}', '{column}', colocate_with => 'none')", True
        )
        for name, column in BY_OTHER.items()
        if name in placed
    ]
    return dropped, rekeyed, relinked, calls


def _rekey(table: str, name: str, kind: str, columns: list[str]) -> Statement:
    keyed = ", ".join([PERSON, *columns])
    return Statement(
        f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} {kind} ({keyed})",
        False,
    )


def _person_fk(table: str, fk: ForeignKeyConstraint) -> str:
    own = ", ".join([PERSON, *(c.name for c in fk.columns)])
    theirs = ", ".join([PERSON, *(e.column.name for e in fk.elements)])
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {fk.name} FOREIGN KEY ({own}) "
        f"REFERENCES {fk.referred_table.name} ({theirs})"
    )
