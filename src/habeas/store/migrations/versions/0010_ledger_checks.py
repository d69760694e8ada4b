"""Every ledger verification recorded, append-only, for oversight on any server worker.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Before, the oversight page showed the last verification kept in the memory of the worker that
ran it: another worker, or the same one after a restart, said it had never been checked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from habeas.store import append_only
from habeas.store.check_tables import APPEND_ONLY_CHECK_TABLES, CHECK_TABLES

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in CHECK_TABLES:
        table.create(bind, checkfirst=True)
    append_only.install(bind.dialect.name, op.execute, APPEND_ONLY_CHECK_TABLES)


def downgrade() -> None:
    # Its records are append-only, like the ledger's: dropping them is not something a migration does quietly.
    # An empty table (a database no one has verified yet, a test rewinding its schema) may go.
    bind = op.get_bind()
    for table in reversed(CHECK_TABLES):
        if bind.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
            raise RuntimeError(f"habeas: {table.name} holds recorded checks and cannot be reversed; restore a backup")
        table.drop(bind)
