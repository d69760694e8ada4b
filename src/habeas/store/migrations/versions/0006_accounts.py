"""Accounts, API tokens, failed sign-ins, and the append-only read-access log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Not projections (they hold secrets the ledger must not): ``habeas rebuild`` leaves them
alone.  The read-access log refuses UPDATE and DELETE like the ledger does.
"""

from __future__ import annotations

from alembic import op

from habeas.store import append_only
from habeas.store.account_tables import ACCOUNT_TABLES, APPEND_ONLY_ACCOUNT_TABLES

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in ACCOUNT_TABLES:
        table.create(bind)
    append_only.install(bind.dialect.name, op.execute, APPEND_ONLY_ACCOUNT_TABLES)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(ACCOUNT_TABLES):
        table.drop(bind)
