"""Run the Alembic migrations from code (``habeas init``, tests) with the package's scripts."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from habeas.store.engine import refresh_statistics


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "habeas.store:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    if current_revision(engine) != before:
        # New tables and indexes: give the planner statistics now rather than after the first slow query.
        refresh_statistics(engine)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
