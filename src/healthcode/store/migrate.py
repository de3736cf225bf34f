"""Running the Alembic migrations from code (the server and ``healthcode admin init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from healthcode.store.database import Database
from healthcode.store.partitions import is_partition

MIGRATIONS = Path(__file__).parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What Alembic compares: the declared schema. The evidence partitions and
    ``evidence_ids`` are PostgreSQL's own layout (``store/partitions.py``), not `metadata`'s."""
    return not (type_ == "table" and name is not None and is_partition(name))


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database) -> None:
    command.upgrade(alembic_config(db), "head")
