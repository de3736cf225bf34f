"""Running the Alembic migrations from code (the server and ``healthcode admin init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from healthcode.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database) -> None:
    command.upgrade(alembic_config(db), "head")
