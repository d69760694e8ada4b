"""Transfers between states: agreements, transferees, claims, foreign orders, refusals, invoices, outbox,
and the webhook delivery cursors (operational state, not rebuilt).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Projections are caches of the ledger (architecture invariant 1): created from the module's
own table definitions; a later change of shape is a new migration plus ``habeas rebuild``.
"""

from __future__ import annotations

from alembic import op

from habeas.store.transfer_tables import OPERATIONAL_TABLES, TRANSFER_TABLES

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (*TRANSFER_TABLES, *OPERATIONAL_TABLES):
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed((*TRANSFER_TABLES, *OPERATIONAL_TABLES)):
        table.drop(bind)
