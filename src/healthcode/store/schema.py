"""The ``MetaData`` every table is declared on, with the naming convention of its constraints.

The core tables are in ``tables.py``; groups of their own are in ``tables_*.py`` (the log,
orders and staff, appeals and oversight, DCC, places and passes) and a few live beside their
queries (``idempotency.py``); ``tables.py`` imports them all, so ``tables.metadata`` always
holds the whole schema.
"""

from __future__ import annotations

from sqlalchemy import MetaData, String

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)
