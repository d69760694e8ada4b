"""The register's read models (facilities, people, episodes, stays, counters, alerts).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Projections are caches of the ledger, so this migration creates them from the
current table definitions; a later change to a projection's shape is a new
migration that drops and recreates it, followed by ``habeas rebuild``.
"""

from __future__ import annotations

from alembic import op

from habeas.store.register_tables import PROJECTION_TABLES

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in PROJECTION_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(PROJECTION_TABLES):
        table.drop(bind, checkfirst=True)  # a later migration's downgrade may have dropped one (0009)
