"""Alembic environment: migrations run on the engine habeas hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from habeas.store.engine import make_engine
from habeas.store.tables import metadata

config = context.config
engine: Engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,  # all of an upgrade happens, or none of it (SQLite too)
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
