"""Alembic environment: migrations run on the engine the caller hands over."""

from __future__ import annotations

from alembic import context

from healthcode.store.migrate import include_name
from healthcode.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        include_name=include_name,
    )
    context.run_migrations()
